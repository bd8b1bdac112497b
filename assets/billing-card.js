// Card entry for the billing page: Stripe.js (or localstripe's shim of it) collects the card
// in its own element and confirms the SetupIntent; only the SetupIntent id returns to us.
window.ezscaleCard = {
  load(url) {
    if (window.Stripe) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = () => reject(new Error("Stripe.js did not load"));
      document.head.appendChild(script);
    });
  },
  // `target`: where the card field goes (the saved-card form, or a one-off payment's form).
  // `account`: a reseller's connected Stripe account, where its customers' cards are saved.
  async mount(url, publishableKey, clientSecret, target = "#card-element", account = "") {
    await this.load(url);
    if (this.element) this.element.unmount();
    this.secret = clientSecret;
    this.stripe = account ? window.Stripe(publishableKey, { stripeAccount: account }) : window.Stripe(publishableKey);
    this.element = this.stripe.elements().create("card");
    this.element.mount(target);
    this.acceptFullYear(document.querySelector(target));
    return true;
  },
  // A four-digit expiry year ("2031") is taken as its last two digits, the form the card field
  // expects. This capture listener runs before the field's own input handler: it holds back "20"
  // and "203" (the start of a full year, which the field would take as 2020 and jump on) and
  // passes "2031" on as "31".
  acceptFullYear(root) {
    if (!root || root.dataset.fullYear) return;
    root.dataset.fullYear = "1";
    root.addEventListener(
      "input",
      (event) => {
        const input = event.target;
        if (input.placeholder !== "exp_year") return;
        if (/^20\d?$/.test(input.value)) event.stopPropagation();
        else if (/^20\d\d$/.test(input.value)) input.value = input.value.slice(2);
      },
      true,
    );
  },
  async confirm() {
    if (!this.stripe) return { error: "Start adding a card first." };
    const result = await this.stripe.confirmCardSetup(this.secret, { payment_method: { card: this.element } });
    if (result.error) return { error: result.error.message || "The card was declined." };
    this.element.unmount();
    this.element = null;
    return { setup_intent: result.setupIntent.id };
  },
};
