"""The Stripe simulator's Connect: accounts onboard through their link, a direct charge lands on
the connected account (invisible to the platform and to other accounts), an account that has not
finished onboarding cannot charge, and events about its objects name it. Lists filtered per
customer and per account return exactly the right objects in store order (the simulator answers
them from indexes, `ezscale/simulators/stripe_store.py`)."""

import re

import httpx
import pytest

from ezscale.settings import get_settings
from ezscale.simulators.stripe import succeeded_charges


@pytest.fixture
def api(stripe_env) -> httpx.Client:
    key = get_settings().stripe_secret_key
    with httpx.Client(base_url=stripe_env, auth=(key, ""), timeout=10) as client:
        yield client


def _account(api: httpx.Client, *, onboard: bool) -> str:
    account = api.post("/v1/accounts", data={"type": "standard", "email": "owner@acme.test"}).json()
    assert account["charges_enabled"] is False
    if onboard:
        link = api.post(
            "/v1/account_links",
            data={
                "account": account["id"],
                "type": "account_onboarding",
                "return_url": "https://acme.example/reseller/payments?connected=1",
                "refresh_url": "https://acme.example/reseller/payments",
            },
        ).json()
        page = httpx.get(link["url"])
        assert page.status_code == 200 and 'id="agree"' in page.text
        action = re.search(r'name="return_url" value="([^"]*)"', page.text)[1]
        done = httpx.post(link["url"].split("?")[0], data={"return_url": action.replace("&amp;", "&")})
        assert done.status_code == 302
        assert done.headers["location"] == "https://acme.example/reseller/payments?connected=1"
        assert api.get(f"/v1/accounts/{account['id']}").json()["charges_enabled"] is True
    return account["id"]


def _direct_charge(api: httpx.Client, account: str) -> httpx.Response:
    on_behalf = {"Stripe-Account": account}
    customer = api.post("/v1/customers", data={"email": "ann@example.com"}, headers=on_behalf)
    if customer.status_code != 200:
        return customer
    return api.post(
        "/v1/payment_intents",
        data={
            "amount": 2400,
            "currency": "usd",
            "customer": customer.json()["id"],
            "payment_method": "pm_card_visa",
            "confirm": "true",
        },
        headers=on_behalf,
    )


def test_a_direct_charge_lands_on_the_connected_account_only(api):
    acme, beta = _account(api, onboard=True), _account(api, onboard=True)
    intent = _direct_charge(api, acme)
    assert intent.status_code == 200 and intent.json()["status"] == "succeeded"
    intent_id = intent.json()["id"]

    assert api.get(f"/v1/payment_intents/{intent_id}", headers={"Stripe-Account": acme}).status_code == 200
    for outsider in ({}, {"Stripe-Account": beta}):
        missing = api.get(f"/v1/payment_intents/{intent_id}", headers=outsider)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"
        refund = api.post("/v1/refunds", data={"payment_intent": intent_id}, headers=outsider)
        assert refund.status_code in (400, 404)
        listed = api.get("/v1/payment_intents", headers=outsider).json()["data"]
        assert intent_id not in [i["id"] for i in listed]
    own = api.get("/v1/payment_intents", headers={"Stripe-Account": acme}).json()["data"]
    assert [i["id"] for i in own] == [intent_id]


def test_a_page_of_another_accounts_objects_does_not_hide_ones_own(api):
    acme = _account(api, onboard=True)
    for n in range(105):  # more than a full page (100) of the platform's own, before and after it
        api.post("/v1/customers", data={"email": f"platform{n}@example.com"})
        if n == 102:
            own = {"email": "own@acme.test"}
            mine = api.post("/v1/customers", data=own, headers={"Stripe-Account": acme}).json()
    listed = api.get("/v1/customers", params={"limit": 3}, headers={"Stripe-Account": acme}).json()
    assert [c["id"] for c in listed["data"]] == [mine["id"]] and listed["has_more"] is False
    platform = api.get("/v1/customers", params={"limit": 3}).json()
    assert len(platform["data"]) == 3 and platform["has_more"] is True
    assert mine["id"] not in [c["id"] for c in platform["data"]]


def test_an_account_that_did_not_finish_onboarding_cannot_charge(api):
    pending = _account(api, onboard=False)
    refused = _direct_charge(api, pending)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "account_invalid"
    unknown = api.get("/v1/customers", headers={"Stripe-Account": "acct_nobody"})
    assert unknown.status_code == 403
    link = api.post(
        "/v1/account_links", data={"account": "acct_nobody", "return_url": "x", "refresh_url": "y"}
    )
    assert link.status_code == 400


def test_events_about_a_connected_accounts_objects_name_it(api):
    acme = _account(api, onboard=True)
    customer = api.post("/v1/customers", data={"email": "bob@example.com"}, headers={"Stripe-Account": acme})
    created = {"type": "customer.created"}
    events = api.get("/v1/events", params=created, headers={"Stripe-Account": acme}).json()["data"]
    mine = [e for e in events if e["data"]["object"]["id"] == customer.json()["id"]]
    assert len(mine) == 1 and mine[0]["account"] == acme
    platform = api.get("/v1/events", params=created).json()["data"]
    assert customer.json()["id"] not in [e["data"]["object"]["id"] for e in platform]


def test_stripe_js_confirms_a_card_on_the_connected_account_it_names(api):
    """In the browser, `Stripe(pk, {stripeAccount})` sends `_stripe_account`, as Stripe.js does."""
    acme = _account(api, onboard=True)
    script = httpx.get(f"{api.base_url}/js.stripe.com/v3/").text
    assert "stripeOptions" in script and "_stripe_account: stripeAccount" in script
    on_behalf = {"Stripe-Account": acme}
    customer = api.post("/v1/customers", data={"email": "ann@example.com"}, headers=on_behalf).json()["id"]
    intent = api.post(
        "/v1/setup_intents",
        data={"customer": customer, "usage": "off_session", "payment_method_types[]": "card"},
        headers=on_behalf,
    ).json()
    body = {
        "key": get_settings().stripe_publishable_key,
        "client_secret": intent["client_secret"],
        "payment_method_data": {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": "12", "exp_year": "30", "cvc": "123"},
        },
    }
    url = f"{api.base_url}/v1/setup_intents/{intent['id']}/confirm"
    assert httpx.post(url, json=body).status_code == 404  # the platform has no such intent
    confirmed = httpx.post(url, json={**body, "_stripe_account": acme})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"


def _pay(api: httpx.Client, customer: str | None, headers: dict | None = None) -> str:
    """A confirmed PaymentIntent (for `customer`, if given); its charge's id."""
    data = {"amount": 1500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": "true"}
    intent = api.post(
        "/v1/payment_intents", data={**data, **({"customer": customer} if customer else {})}, headers=headers
    )
    assert intent.status_code == 200 and intent.json()["status"] == "succeeded", intent.text
    charge = intent.json()["latest_charge"]
    return charge if isinstance(charge, str) else charge["id"]


def _ids_of(api: httpx.Client, path: str, headers: dict | None = None, **params) -> list[str]:
    return [o["id"] for o in api.get(path, params={"limit": 100, **params}, headers=headers).json()["data"]]


def test_lists_filtered_per_customer_return_exactly_its_objects_in_order(api):
    ann, bob = (
        api.post("/v1/customers", data={"email": e}).json()["id"] for e in ("ann@x.test", "bob@x.test")
    )
    anns = [_pay(api, ann), _pay(api, bob), _pay(api, ann), _pay(api, None)]
    del anns[1], anns[-1]
    assert _ids_of(api, "/v1/charges", customer=ann) == anns
    everything = api.get("/v1/charges", params={"limit": 100}).json()["data"]
    assert [c["id"] for c in everything if c["customer"] == ann] == anns  # what a scan would keep

    # a charge given a customer afterwards (Stripe allows it when it had none) is found under it,
    # and one moved to another customer through the API (localstripe allows it) follows
    later, moved = _pay(api, None), _pay(api, ann)
    assert _ids_of(api, "/v1/charges", customer=ann) == [*anns, moved]
    for charge in (later, moved):
        assert api.post(f"/v1/charges/{charge}", data={"customer": bob}).status_code == 200
    assert _ids_of(api, "/v1/charges", customer=bob)[-2:] == [later, moved]
    assert _ids_of(api, "/v1/charges", customer=ann) == anns

    # refunds per charge: the charge's own only, and what it says it refunded
    refund = api.post("/v1/refunds", data={"charge": anns[0], "amount": 400}).json()
    assert _ids_of(api, "/v1/refunds", charge=anns[0]) == [refund["id"]]
    assert _ids_of(api, "/v1/refunds", charge=anns[1]) == []
    shown = api.get(f"/v1/charges/{anns[0]}").json()
    assert shown["amount_refunded"] == 400 and [r["id"] for r in shown["refunds"]["data"]] == [refund["id"]]

    counts = succeeded_charges(str(api.base_url))
    assert counts[ann] == 2 and counts[bob] == 3


def test_lists_per_connected_account_page_through_its_own_objects_only(api):
    acme, beta = _account(api, onboard=True), _account(api, onboard=True)
    on_acme, on_beta = {"Stripe-Account": acme}, {"Stripe-Account": beta}
    ann = api.post("/v1/customers", data={"email": "ann@acme.test"}, headers=on_acme).json()["id"]
    own = []
    for _ in range(3):  # the account's charges between the platform's and another account's
        _pay(api, None)
        own.append(_pay(api, ann, on_acme))
        _pay(api, None, on_beta)
    assert _ids_of(api, "/v1/charges", on_acme) == own
    assert _ids_of(api, "/v1/charges", on_acme, customer=ann) == own
    assert not set(own) & set(_ids_of(api, "/v1/charges")) and not set(own) & set(
        _ids_of(api, "/v1/charges", on_beta)
    )
    assert _ids_of(api, "/v1/charges", customer=ann) == []  # the platform does not see them

    pages, after = [], None
    while True:
        page = api.get(
            "/v1/charges",
            params={"limit": 1, **({"starting_after": after} if after else {})},
            headers=on_acme,
        ).json()
        pages += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert pages == own
