"""A thin httpx client of the SynergyCP API (bare-metal automation).

The API key travels as the `key` query parameter on every call. Replies are wrapped in
`{"error": false, "messages": [{"text"}], "data": ...}`; any `error` other than false is a
failure even with HTTP 200, and `data.ignored` marks a billing-driven action skipped for a VIP
client. SynergyCP publishes no schema: the error statuses, the OS install status values and
the exact fields are unverified (see the reference), so replies are read tolerantly and every
unexpected shape becomes a clear PanelUnavailable.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ezscale.services.provisioning.module import (
    GoneFromPanel,
    NeedsStaff,
    OutOfStock,
    PanelRejected,
    PanelUnavailable,
)
from ezscale.services.provisioning.panel_http import (
    DEFAULT_BACKOFF,
    CreatesOnce,
    PanelHttp,
    PanelRefused,
    as_int,
    dig,
    is_json,
    json_object,
)

PRODUCT = "SynergyCP"


@dataclass(frozen=True, slots=True)
class ScpClient:
    """A SynergyCP client (the customer account)."""

    id: int
    email: str
    billing_id: str


@dataclass(frozen=True, slots=True)
class ScpServer:
    """A dedicated server: its billing link, primary access (None in inventory) and usage."""

    id: int
    srv_id: str
    nickname: str
    billing_id: str
    max_bandwidth: str
    access_id: int | None
    access_active: bool
    client_id: int | None
    usage_used: int
    usage_max: int


@dataclass(frozen=True, slots=True)
class ScpInstall:
    """A queued or finished OS install (`status` as the panel spells it; unverified)."""

    id: int
    status: str


@dataclass(frozen=True, slots=True)
class ScpAddress:
    """An IP entity on a server."""

    address: str
    full_ip: str
    gateway: str


def _error_text(body: Any, text: str) -> tuple[str, str]:  # noqa: ANN401 (a parsed body)
    """`messages[0].text` of an error envelope, else the raw text (no documented error shape)."""
    if is_json(body) and isinstance(body, dict):
        messages = body.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return "", str(messages[0].get("text") or "")
        return "", str(body.get("message") or "")
    return "", "" if text.lstrip().startswith("<") else text.strip()[:200]


def _ignored(envelope: Any, text: str) -> None:  # noqa: ANN401 (a parsed body)
    """NeedsStaff when the panel skipped a billing-driven action for a VIP client (`data.ignored`;
    the HTTP status of that reply is undocumented, so it is looked for on any refusal)."""
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if isinstance(data, dict) and data.get("ignored"):
        raise NeedsStaff(
            f"{PRODUCT} skipped this for a VIP client by its own policy; staff must act. {text}".strip()
        )


def _server(data: Any) -> ScpServer:  # noqa: ANN401 (a JSON value)
    if not isinstance(data, dict):
        raise PanelUnavailable(f"{PRODUCT} sent a server we could not read.")
    billing = data.get("billing")
    if not isinstance(billing, dict):
        billing = {}
    access = data.get("access") if isinstance(data.get("access"), dict) else None
    client = (access or {}).get("client")
    if not isinstance(client, dict):
        client = {}
    usage = data.get("usage")
    if not isinstance(usage, dict):
        usage = {}
    return ScpServer(
        id=as_int(data.get("id"), product=PRODUCT, field="server.id"),
        srv_id=str(data.get("srv_id") or ""),
        nickname=str(data.get("nickname") or ""),
        billing_id="" if billing.get("id") is None else str(billing["id"]),
        max_bandwidth=str(billing.get("max_bandwidth") or ""),
        access_id=None if access is None else as_int(access.get("id"), product=PRODUCT, field="access.id"),
        access_active=bool((access or {}).get("is_active")),
        client_id=int(client["id"]) if str(client.get("id", "")).isdigit() else None,
        usage_used=as_int(usage.get("used") or 0, product=PRODUCT, field="usage.used"),
        usage_max=as_int(usage.get("max") or 0, product=PRODUCT, field="usage.max"),
    )


class SynergyCPClient(CreatesOnce):
    """One SynergyCP API host. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 30.0,
        create_timeout: float = 120.0,
        retries: int = 2,
        backoff: float = DEFAULT_BACKOFF,
    ) -> None:
        """`base_url` is the API host (normally `https://api.<panel domain>`)."""
        self._http = PanelHttp(
            product=PRODUCT,
            base_url=base_url,
            params={"key": api_key},
            headers={"Content-Type": "application/json"},
            timeout=timeout,
            create_timeout=create_timeout,
            retries=retries,
            backoff=backoff,
            error_text=_error_text,
        )

    def __enter__(self) -> "SynergyCPClient":
        """Use as a context manager so the HTTP connections are closed."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the HTTP connections when the block ends."""
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,  # noqa: ANN401 (a JSON body)
        params: Mapping[str, Any] | None = None,
        safe: bool,
        create: bool = False,
    ) -> Any:  # noqa: ANN401 (the envelope's data)
        """One call; returns the envelope's `data`. `ignored` → NeedsStaff, 404 → GoneFromPanel."""
        try:
            reply = self._http.request(method, path, body=body, params=params, safe=safe, create=create)
        except PanelRefused as error:
            if error.status == 404:
                raise GoneFromPanel(f"The server is no longer on {PRODUCT}.") from error
            _ignored(error.body, error.detail)
            raise
        envelope = json_object(reply, product=PRODUCT)
        data = envelope.get("data")
        if envelope.get("error", False) is not False:
            _, text = _error_text(envelope, "")
            _ignored(envelope, text)
            raise PanelRefused(
                f"{PRODUCT} refused the request: {text or 'no reason given'}",
                status=reply.status,
                detail=text,
            )
        return data

    def _rows(self, path: str, params: Mapping[str, Any], *, safe: bool = True) -> tuple[list[Any], int]:
        """A paginated list: (rows of the first page, total)."""
        data = self.call("GET", path, params=params, safe=safe)
        rows = dig(data, "data", product=PRODUCT)
        if not isinstance(rows, list):
            raise PanelUnavailable(f"{PRODUCT} sent a list we could not read.")
        total = data.get("total") if isinstance(data, dict) else None
        return rows, as_int(total, product=PRODUCT, field="total") if total is not None else len(rows)

    # --- clients ----------------------------------------------------------------------------

    def _client(self, data: Any) -> ScpClient:  # noqa: ANN401 (a JSON value)
        if not isinstance(data, dict):
            raise PanelUnavailable(f"{PRODUCT} sent a client we could not read.")
        return ScpClient(
            id=as_int(data.get("id"), product=PRODUCT, field="client.id"),
            email=str(data.get("email") or ""),
            billing_id="" if data.get("billing_id") is None else str(data["billing_id"]),
        )

    def find_client(self, *, billing_id: str = "", email: str = "") -> ScpClient | None:
        """The client with this billing id (or exactly this e-mail), or None."""
        params = {"billing_id": billing_id} if billing_id else {"email": email}
        rows, _ = self._rows("client", params)
        for row in rows:
            client = self._client(row)
            if (billing_id and client.billing_id == billing_id) or (
                not billing_id and client.email.lower() == email.lower()
            ):
                return client
        return None

    def create_client(self, *, email: str, first: str, last: str, billing_id: str) -> ScpClient:
        """Create a client without a password (they sign in through SSO)."""
        body = dict(email=email, first=first, last=last, billing_id=billing_id, password="")
        return self._client(self.call("POST", "client", body=body, safe=False, create=True))

    def link_client(self, client_id: int, *, billing_id: str) -> ScpClient:
        """Set an existing client's billing id."""
        return self._client(
            self.call("PATCH", f"client/{client_id}", body={"billing_id": billing_id}, safe=True)
        )

    def client_key(self, client_id: int) -> str:
        """A new client API key (for SSO)."""
        data = self.call("POST", "key", body={"owner_type": "client", "owner_id": client_id}, safe=False)
        key = dig(data, "key", product=PRODUCT)
        if not isinstance(key, str) or not key:
            raise PanelUnavailable(f"{PRODUCT} sent a key we could not read.")
        return key

    # --- servers ----------------------------------------------------------------------------

    def server(self, server_id: int) -> ScpServer:
        """A server by panel id; GoneFromPanel when there is none."""
        return _server(self.call("GET", f"server/{server_id}", safe=True))

    def server_by_billing_id(self, billing_id: str) -> ScpServer | None:
        """The server whose `billing.id` is our service id, or None."""
        rows, _ = self._rows("server", {"billing_id": billing_id})
        return next((s for s in map(_server, rows) if s.billing_id == billing_id), None)

    def available_servers(self, filters: Mapping[str, Any], *, per_page: int = 1) -> tuple[list[int], int]:
        """Inventory matching the plan's parts exactly: (ids of the first page, uncached total)."""
        params = {**filters, "available": "true", "parts[exact]": "true", "force_refresh_count": "true"}
        rows, total = self._rows("server", params | {"per_page": per_page})
        return [_server(r).id for r in rows], total

    def has_parts(self, billing_id: str, filters: Mapping[str, Any]) -> bool:
        """Whether our service's server has exactly the parts of an inventory filter."""
        rows, _ = self._rows("server", {**filters, "billing_id": billing_id, "parts[exact]": "true"})
        return any(s.billing_id == billing_id for s in map(_server, rows))

    def free_ips(self, *, ips_billing: str, locations: list[str]) -> int:
        """How many free IP entities of this block billing id (in these locations) exist."""
        params: dict[str, Any] = {"billing_id": ips_billing, "server": "none", "per_page": 1}
        if locations:
            params["group[billing][]"] = locations
        _, total = self._rows("entity", params)
        return total

    def addresses(self, server_id: int) -> list[ScpAddress]:
        """The IP entities on a server."""
        rows, _ = self._rows("entity", {"server": server_id, "per_page": 50})
        return [
            ScpAddress(str(r.get("address") or ""), str(r.get("full_ip") or ""), str(r.get("gateway") or ""))
            for r in rows
            if isinstance(r, dict)
        ]

    def provision(self, body: dict[str, Any]) -> ScpServer:
        """POST server/provision (not retried once sent); empty data = nothing provisioned."""
        data = self.call("POST", "server/provision", body=body, safe=False, create=True)
        server = data.get("server") if isinstance(data, dict) else None
        if not server:
            raise OutOfStock(f"{PRODUCT} provisioned nothing: no matching server is free.")
        return _server(server)

    def set_access(self, server_id: int, access_id: int, body: dict[str, Any]) -> None:
        """PATCH the primary access (suspend/unsuspend; idempotent)."""
        self.call("PATCH", f"server/{server_id}/access/{access_id}", body=body, safe=True)

    def wipe(self, server_id: int) -> None:
        """Wipe (terminate): unassigns client and IPs, powers off. Not retried once sent."""
        self.call("PATCH", f"server/{server_id}", body={"wiped": True, "auto": True}, safe=False)

    def set_bandwidth(self, server_id: int, max_bandwidth: str) -> None:
        """Change the billing bandwidth cap."""
        self.call(
            "PATCH", f"server/{server_id}", body={"billing": {"max_bandwidth": max_bandwidth}}, safe=True
        )

    def installs(self, server_id: int) -> list[ScpInstall]:
        """The server's OS installs, oldest first as listed."""
        rows, _ = self._rows(f"server/{server_id}/install", {"per_page": 50})
        return [
            ScpInstall(
                id=as_int(r.get("id"), product=PRODUCT, field="install.id"), status=str(r.get("status") or "")
            )
            for r in rows
            if isinstance(r, dict)
        ]

    def install(self, server_id: int, *, profile_billing: str, password: str) -> None:
        """Queue an OS reload (not retried once sent)."""
        body = {"pxe_profile_billing": profile_billing, "password": password, "queue": True}
        self.call("POST", f"server/{server_id}/install", body=body, safe=False, create=True)

    def power(self, server_id: int, power: str) -> None:
        """IPMI power on/off/reset/soft through the server's first control."""
        rows, _ = self._rows(f"server/{server_id}/control", {})
        if not rows or not isinstance(rows[0], dict):
            raise PanelRejected(f"{PRODUCT} has no IPMI control for this server.")
        control = as_int(rows[0].get("id"), product=PRODUCT, field="control.id")
        self.call("POST", f"server/{server_id}/control/{control}/command", body={"power": power}, safe=False)
