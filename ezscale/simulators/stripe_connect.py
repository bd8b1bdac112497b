"""Stripe Connect for the Stripe simulator: what localstripe lacks (it ignores `Stripe-Account`).

- Connected accounts: `POST/GET /v1/accounts[/{id}]`, onboarding links (`POST /v1/account_links`)
  to a loopback onboarding page whose "Agree and submit" enables charges and returns to the
  platform's `return_url` (a `refresh_url` visit is an expired link, as on Stripe).
- Data partitioned per account: an object created with `Stripe-Account: acct_…` belongs to that
  account (the objects nested in the reply too: a PaymentIntent's charges); a request on behalf of
  an account — or of the platform, without the header — sees only its own objects: another's is
  `resource_missing` (404) and lists leave it out. This is what makes a direct charge land on the
  reseller's account and not the platform's, observable by tests.
- A payment on behalf of an account that cannot take charges yet (onboarding not finished) is
  refused with 400, as Stripe does.
- Events about a connected account's objects carry `account`, so webhooks can be routed.

Ownership is kept in localstripe's own store (pickled with the demo's `--state`).
"""

import contextvars
import html
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

PLATFORM = ""
_OWNER = "_owner:"
_ACCOUNT = "connect_account:"
_ID_PATH = re.compile(r"^/v1/(?P<kind>[a-z_]+)/(?P<id>[A-Za-z0-9_]+)")
# The account a request runs on behalf of, for the events it causes.
_ON_BEHALF: contextvars.ContextVar[str] = contextvars.ContextVar("on_behalf", default=PLATFORM)
_LIST_PATH = re.compile(r"^/v1/[a-z_]+$")
# The account a list request runs on behalf of, until localstripe's list for it takes it.
_LISTING: contextvars.ContextVar[str | None] = contextvars.ContextVar("listing", default=None)
_CHARGING = re.compile(r"^/v1/(payment_intents|charges|setup_intents)(/|$)")


def _error(web, status: int, message: str, code: str = "") -> Any:
    body = {"error": {"type": "invalid_request_error", "message": message}}
    if code:
        body["error"]["code"] = code
    return web.json_response(body, status=status)


def _ids(value: Any) -> list[str]:
    """Every object id in a reply (nested objects included)."""
    found: list[str] = []
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and isinstance(value.get("object"), str):
            found.append(value["id"])
        for item in value.values():
            found += _ids(item)
    elif isinstance(value, list):
        for item in value:
            found += _ids(item)
    return found


class Connect:
    """Accounts, onboarding and the partition, over localstripe's store."""

    def __init__(self, store: dict, *, base_url: str) -> None:
        self.store = store
        self.base_url = base_url

    # Accounts -----------------------------------------------------------------------------
    def account(self, account_id: str) -> dict | None:
        return self.store.get(_ACCOUNT + account_id)

    def _save(self, account: dict) -> dict:
        self.store[_ACCOUNT + account["id"]] = dict(account)  # assignment persists the store
        return account

    def create_account(self, data: dict) -> dict:
        return self._save(
            {
                "id": "acct_" + secrets.token_hex(8),
                "object": "account",
                "type": data.get("type", "standard"),
                "email": data.get("email"),
                "country": data.get("country", "US"),
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "created": int(time.time()),
                "metadata": {k[9:-1]: v for k, v in data.items() if k.startswith("metadata[")},
            }
        )

    def onboard(self, account_id: str) -> dict:
        account = self.account(account_id) or {}
        return self._save(
            {**account, "charges_enabled": True, "payouts_enabled": True, "details_submitted": True}
        )

    # Ownership ----------------------------------------------------------------------------
    def owner(self, object_id: str) -> str:
        return self.store.get(_OWNER + object_id, PLATFORM)

    def claim(self, reply: Any, account: str) -> None:
        for object_id in _ids(reply):
            if _OWNER + object_id not in self.store:
                self.store[_OWNER + object_id] = account

    def visible(self, reply: Any, account: str) -> Any:
        """A list reply with only `account`'s objects."""
        if isinstance(reply, dict) and reply.get("object") == "list" and isinstance(reply.get("data"), list):
            reply = {**reply, "data": [o for o in reply["data"] if self.owner(o.get("id", "")) == account]}
        return reply


async def _form(request) -> dict:
    """The form fields (aiohttp keeps them once read, here by localstripe's auth check first)."""
    return dict(await request.post())


def _account_routes(web, app, connect: Connect) -> None:
    """The accounts API and account links (platform key)."""

    async def create_account(request):
        return web.json_response(connect.create_account(await _form(request)))

    async def get_account(request):
        account = connect.account(request.match_info["id"])
        if account is None:
            return _error(web, 404, f"No such account: '{request.match_info['id']}'", "resource_missing")
        return web.json_response(account)

    async def account_link(request):
        data = await _form(request)
        account_id = data.get("account", "")
        if connect.account(account_id) is None:
            return _error(web, 400, f"No such account: '{account_id}'", "resource_missing")
        if not data.get("return_url") or not data.get("refresh_url"):
            return _error(web, 400, "return_url and refresh_url are required.")
        query = urlencode({"return_url": data["return_url"], "refresh_url": data["refresh_url"]})
        return web.json_response(
            {
                "object": "account_link",
                "created": int(time.time()),
                "expires_at": int(time.time()) + 300,
                "url": f"{connect.base_url}/connect/onboarding/{account_id}?{query}",
            }
        )

    app.router.add_post("/v1/accounts", create_account)
    app.router.add_get("/v1/accounts/{id}", get_account)
    app.router.add_post("/v1/account_links", account_link)


_ONBOARDING = re.compile(r"^/connect/onboarding/(?P<id>acct_[0-9a-f]+)$")


def _onboarding(web, connect: Connect) -> Any:
    """The onboarding page an account link opens, and its submission: a browser page, answered
    before localstripe's API-key check (a middleware, as the link itself is the credential)."""

    async def page(request, account_id: str):
        account = connect.account(account_id)
        if account is None:
            raise web.HTTPNotFound()
        back = html.escape(request.query.get("return_url", ""))
        text = (
            "<!doctype html><title>Stripe (simulated) — connect your account</title>"
            f"<h1>Connect {html.escape(account['id'])} to the platform</h1>"
            "<p>Business details, bank account and identity are taken as given in this simulator.</p>"
            f'<form method="post"><input type="hidden" name="return_url" value="{back}">'
            '<button id="agree" type="submit">Agree and submit</button></form>'
        )
        return web.Response(text=text, content_type="text/html")

    async def submit(request, account_id: str):
        if connect.account(account_id) is None:
            raise web.HTTPNotFound()
        connect.onboard(account_id)
        back = (await _form(request)).get("return_url", "")
        if not back.startswith(("http://", "https://")):
            return web.Response(text="Account connected.")
        raise web.HTTPFound(back)

    @web.middleware
    async def onboarding(request, handler):
        found = _ONBOARDING.match(request.path)
        if found is None:
            return await handler(request)
        if request.method == "POST":
            return await submit(request, found["id"])
        return await page(request, found["id"])

    return onboarding


async def _refusal(web, connect: Connect, request, account: str) -> Any:
    """The error a request on behalf of `account` gets before it runs, or None: its path or a
    parameter (`payment_intent`, `customer`, …) naming another account's object is missing."""
    path = request.path
    if account:
        state = connect.account(account)
        if state is None:
            return _error(web, 403, f"The provided key does not have access to account '{account}'.")
        if request.method == "POST" and _CHARGING.match(path) and not state["charges_enabled"]:
            return _error(web, 400, "Your account cannot currently make live charges.", "account_invalid")
    found = _ID_PATH.match(path)
    named = [found["id"]] if found else []
    if request.method == "POST":
        named += [v for v in (await _form(request)).values() if isinstance(v, str)]
    for object_id in named:
        if _OWNER + object_id in connect.store and connect.owner(object_id) != account:
            return _error(web, 404, f"No such object: '{object_id}'", "resource_missing")
    return None


async def _list(handler, request, account: str) -> Any:
    """A list as `account` sees it: the request's list keeps only the account's objects before
    localstripe cuts it to the asked page (see `_owned_lists`)."""
    token = _LISTING.set(account)
    try:
        return await handler(request)
    finally:
        _LISTING.reset(token)


def _owned_lists(resources, connect: Connect) -> None:
    """Make localstripe's lists keep only the objects of the account a list request runs on
    behalf of (`_LISTING`): the list the request asked for, not the lists nested in the objects
    it returns. The objects after `starting_after` are taken before the others are left out, so a
    page is the account's next `limit` objects (others' objects cannot fill it and hide them)."""

    def owned(original):
        def list_all(cls, *args, **kwargs):
            account = _LISTING.get()
            _LISTING.set(None)  # nested lists (a charge's refunds) are not the request's
            listed = original.__get__(None, cls)(*args, **kwargs)
            if account is not None:
                listed._compute_starting_pos()
                rest = listed._list[listed._starting_pos :]
                listed._list = [o for o in rest if connect.owner(getattr(o, "id", "")) == account]
                listed._starting_pos = 0
            return listed

        return classmethod(list_all)

    for cls in (resources.StripeObject, *resources.StripeObject.__subclasses__()):
        if "_api_list_all" in vars(cls):
            cls._api_list_all = owned(vars(cls)["_api_list_all"])


def _partition(web, connect: Connect) -> Any:
    """The middleware keeping each account's objects to itself."""

    @web.middleware
    async def partition(request, handler):
        if not request.path.startswith("/v1/") or request.path.startswith(
            ("/v1/accounts", "/v1/account_links")
        ):
            return await handler(request)
        account = request.headers.get("Stripe-Account") or await _body_account(request) or PLATFORM
        refused = await _refusal(web, connect, request, account)
        if refused is not None:
            return refused
        if request.method == "GET" and _LIST_PATH.match(request.path):
            return await _list(handler, request, account)
        token = _ON_BEHALF.set(account)
        try:
            response = await handler(request)
        finally:
            _ON_BEHALF.reset(token)
        if response.status >= 400 or response.content_type != "application/json":
            return response
        reply = json.loads(response.body)
        if request.method == "POST":
            connect.claim(reply, account)
        shown = connect.visible(reply, account)
        return response if shown is reply else web.json_response(shown, status=response.status)

    return partition


def complete_onboarding(link_url: str) -> str:
    """Do what the owner does on the simulator's onboarding page: open the link and agree.
    Returns where the page sends the browser back (the platform's return URL)."""
    import httpx

    page = httpx.get(link_url, timeout=10)
    page.raise_for_status()
    back = re.search(r'name="return_url" value="([^"]*)"', page.text)
    done = httpx.post(
        link_url.split("?")[0], data={"return_url": html.unescape(back[1]) if back else ""}, timeout=10
    )
    return done.headers.get("location", "")


def _js_with_accounts(web) -> Any:
    """localstripe's Stripe.js shim taking `Stripe(key, {stripeAccount})` as Stripe.js does: its
    requests then carry `_stripe_account` (what Stripe.js sends), read by the partition."""

    @web.middleware
    async def patched(request, handler):
        response = await handler(request)
        if not request.path.startswith("/js.stripe.com/") or response.status != 200:
            return response
        text = response.body.decode() if isinstance(response.body, bytes) else response.text
        text = text.replace(
            "Stripe = (apiKey) => {",
            "Stripe = (apiKey, stripeOptions) => {\n"
            "  const stripeAccount = (stripeOptions || {}).stripeAccount || '';",
        )
        text = text.replace("key: apiKey,", "key: apiKey, _stripe_account: stripeAccount,")
        text = text.replace(
            "body.push('key=' + apiKey);",
            "body.push('key=' + apiKey); if (stripeAccount) body.push('_stripe_account=' + stripeAccount);",
        )
        return web.Response(text=text, content_type=response.content_type)

    return patched


async def _body_account(request) -> str:
    """The `_stripe_account` a browser request (Stripe.js, publishable key) names in its body."""
    if request.method != "POST":
        return ""
    try:
        data = await request.json()
    except ValueError:
        data = await _form(request)
    value = data.get("_stripe_account") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def install(web, app, store: dict, resources, *, base_url: str) -> Connect:
    """Add the Connect routes, the partition middleware and account-tagged events to `app`."""
    connect = Connect(store, base_url=base_url)
    _account_routes(web, app, connect)
    app.middlewares.insert(0, _partition(web, connect))
    app.middlewares.insert(0, _onboarding(web, connect))
    app.middlewares.insert(0, _js_with_accounts(web))
    from localstripe import server

    read_body = server.get_post_data

    async def get_post_data(request, remove_auth=True):
        data = await read_body(request, remove_auth=remove_auth)
        if data and remove_auth and "_stripe_account" in data:
            del data["_stripe_account"]
        return data

    server.get_post_data = get_post_data
    original_init = resources.Event.__init__

    def event_init(self, type, data):
        original_init(self, type, data)
        owner = _ON_BEHALF.get() or connect.owner(getattr(data, "id", "") or "")
        if owner:
            self.account = owner
            connect.store[_OWNER + self.id] = owner

    resources.Event.__init__ = event_init
    _owned_lists(resources, connect)
    return connect
