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
  async mount(url, publishableKey, clientSecret) {
    await this.load(url);
    if (this.element) this.element.unmount();
    this.secret = clientSecret;
    this.stripe = window.Stripe(publishableKey);
    this.element = this.stripe.elements().create("card");
    this.element.mount("#card-element");
    return true;
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
