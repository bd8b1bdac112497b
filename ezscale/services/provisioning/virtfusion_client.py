"""VirtFusion API v1 client (httpx, Bearer token).

Tolerant by design (`virtfusion-api.md`): any 2xx is success (status codes drift between panel
versions: 200/201/204), error bodies are read as `{"errors": [...]}`, `{"errors": {field: [...]}}`,
`{"msg": ...}` or `{"message": ...}`. Only calls that are safe to repeat (reads, suspend,
unsuspend, delete) are retried here; a create is never repeated by the client: the job looks the
server up before trying again. The HTTP plumbing (timeouts, safe retries, 5xx/429 as unavailable)
is `panel_http`'s, as for the other panels; this module maps the panel's refusals (404 gone,
409/423 busy, no room, bad token) to the contract's error classes with a message safe to show.
"""

import logging
from typing import Any

from ezscale.services.provisioning.module import (
    GoneFromPanel,
    OutOfStock,
    PanelBusy,
    PanelRejected,
    PanelUnavailable,
)
from ezscale.services.provisioning.panel_http import CreatesOnce, PanelHttp, PanelRefused, is_json

log = logging.getLogger(__name__)

PRODUCT = "The VirtFusion panel"

SAFE_RETRIES = 2
# The panel answers this (422) when no hypervisor in the group has room; matched loosely
# (unverified wording on real panels).
_CAPACITY_WORDS = ("enough free", "no hypervisor", "insufficient", "not enough", "no available")


def _messages(body: Any) -> str:  # noqa: ANN401 (JSON of unknown shape)
    """The error text of a reply body, whatever its shape."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    found: list[str] = []
    if isinstance(errors, list):
        found = [str(e) for e in errors]
    elif isinstance(errors, dict):
        for value in errors.values():
            found.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    for key in ("msg", "message"):
        if isinstance(body.get(key), str):
            found.append(body[key])
    return "; ".join(m.strip() for m in found if m and m.strip())[:300]


class VirtFusionClient(CreatesOnce):
    """One panel's API. `timeout` is for ordinary calls, `create_timeout` for server creates."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        create_timeout: float = 120.0,
        backoff: float = 0.0,
    ) -> None:
        """Connect lazily to `<base_url>/api/v1` (base_url may already end in /api/v1)."""
        root = base_url.rstrip("/")
        if not root.endswith("/api/v1"):
            root += "/api/v1"
        self._http = PanelHttp(
            product=PRODUCT,
            base_url=root,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            create_timeout=create_timeout,
            retries=SAFE_RETRIES,
            backoff=backoff,
            error_text=lambda body, _text: ("", _messages(body)),
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> "VirtFusionClient":
        """Use as a context manager."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close on leaving the block."""
        self.close()

    # --- transport ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        safe: bool = False,
        create: bool = False,
        want_body: bool = True,
    ) -> Any:  # noqa: ANN401 (JSON)
        """One call over `panel_http` (retried only when `safe`, or when it never left); returns
        the reply's `data` (or the whole body without one, None for 204)."""
        for attempt in range(1 + (SAFE_RETRIES if safe else 0)):  # a garbled reply to a read: ask again
            if attempt:
                log.info("virtfusion %s %s sent a malformed reply, retry %d", method, path, attempt)
            try:
                reply = self._http.request(method, path, body=json, params=params, safe=safe, create=create)
            except PanelRefused as error:
                raise _error(error.status, error.detail) from error
            if is_json(reply.body):
                break
        body = reply.body
        if not is_json(body):
            raise PanelUnavailable(f"{PRODUCT} sent a malformed reply.")
        if want_body and not isinstance(body, dict):
            raise PanelUnavailable(f"{PRODUCT} sent an empty or malformed reply.")
        if not isinstance(body, dict) or "current_page" in body:
            return body  # None for 204; a paginator keeps its page fields
        return body.get("data", body)

    # --- calls ----------------------------------------------------------------------------

    def connect(self) -> None:
        """Prove the token works (GET /connect)."""
        self._request("GET", "/connect", safe=True, want_body=False)

    def hypervisor_groups(self) -> list[dict[str, Any]]:
        """The hypervisor groups (proves the token's scope)."""
        return _list(self._request("GET", "/compute/hypervisors/groups", params={"results": 200}, safe=True))

    def group_resources(self, group_id: int) -> list[dict[str, Any]]:
        """Per-hypervisor resources of a group (all pages)."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._request(
                "GET",
                f"/compute/hypervisors/groups/{group_id}/resources",
                params={"results": 200, "page": page},
                safe=True,
            )
            rows.extend(_list(body))
            last = body.get("last_page", 1) if isinstance(body, dict) else 1
            if not isinstance(last, int) or page >= last:
                return rows
            page += 1

    def package(self, package_id: int) -> dict[str, Any]:
        """One package (GoneFromPanel if deleted)."""
        return _dict(self._request("GET", f"/packages/{package_id}", safe=True))

    def user_by_ext(self, ext_id: int) -> dict[str, Any] | None:
        """Our customer's panel user, or None."""
        try:
            return _dict(self._request("GET", f"/users/{ext_id}/byExtRelation", safe=True))
        except GoneFromPanel:
            return None

    def create_user(self, *, ext_id: int, name: str, email: str) -> dict[str, Any]:
        """A panel user keyed by our customer id (no mail from the panel)."""
        body = {"name": name, "email": email, "extRelationId": ext_id, "sendMail": False}
        return _dict(self._request("POST", "/users", json=body))

    def create_server(
        self, *, package_id: int, user_id: int, group_id: int, ipv4: int, dry_run: bool = False
    ) -> dict[str, Any]:
        """Create a server (not built yet); with `dry_run` only validates (capacity, ids)."""
        body = {"packageId": package_id, "userId": user_id, "hypervisorId": group_id, "ipv4": ipv4}
        params = {"dryRun": "true"} if dry_run else None
        return _dict(self._request("POST", "/servers", json=body, params=params, create=True))

    def build_server(self, server_id: int, *, os_id: int, name: str, hostname: str) -> dict[str, Any]:
        """Install the OS (queued: follow with `server`). The panel mails the login to the owner."""
        body = {"operatingSystemId": os_id, "name": name, "hostname": hostname, "email": True}
        return _dict(self._request("POST", f"/servers/{server_id}/build", json=body, create=True))

    def server(self, server_id: int) -> dict[str, Any]:
        """A server (GoneFromPanel if it is not there)."""
        return _dict(self._request("GET", f"/servers/{server_id}", safe=True))

    def user_servers(self, user_id: int) -> list[dict[str, Any]]:
        """The servers a panel user owns."""
        return _list(self._request("GET", f"/servers/user/{user_id}", safe=True))

    def suspend(self, server_id: int) -> None:
        """Suspend a server."""
        self._request("POST", f"/servers/{server_id}/suspend", safe=True, want_body=False)

    def unsuspend(self, server_id: int) -> None:
        """Lift a suspension."""
        self._request("POST", f"/servers/{server_id}/unsuspend", safe=True, want_body=False)

    def delete(self, server_id: int, *, delay_minutes: int = 0) -> None:
        """Delete a server (after `delay_minutes` of grace on the panel)."""
        self._request(
            "DELETE", f"/servers/{server_id}", params={"delay": delay_minutes}, safe=True, want_body=False
        )

    def power(self, server_id: int, action: str) -> None:
        """boot, shutdown, restart or poweroff (queued on the panel)."""
        self._request("POST", f"/servers/{server_id}/power/{action}", want_body=False)

    def change_package(self, server_id: int, package_id: int) -> None:
        """Move a server to another package (re-applying its resources)."""
        body = {"cpu": True, "memory": True, "primaryDiskSize": True, "primaryNetworkTraffic": True}
        self._request("PUT", f"/servers/{server_id}/package/{package_id}", json=body, want_body=False)

    def traffic(self, server_id: int) -> list[dict[str, Any]]:
        """Monthly traffic rows (bytes)."""
        data = self._request("GET", f"/servers/{server_id}/traffic", safe=True)
        monthly = data.get("monthly") if isinstance(data, dict) else None
        return [m for m in monthly if isinstance(m, dict)] if isinstance(monthly, list) else []

    def server_templates(self, server_id: int) -> list[dict[str, Any]]:
        """OS templates a server can be (re)installed with, flattened."""
        groups = _list(self._request("GET", f"/servers/{server_id}/templates", safe=True))
        return [t for g in groups for t in (g.get("templates") or []) if isinstance(t, dict)]

    def server_login_tokens(self, ext_id: int, server_id: int) -> str:
        """A single-use login path (`endpoint_complete`) landing on the server."""
        data = _dict(self._request("POST", f"/users/{ext_id}/serverAuthenticationTokens/{server_id}"))
        auth = data.get("authentication")
        path = auth.get("endpoint_complete") if isinstance(auth, dict) else None
        if not isinstance(path, str) or not path.startswith("/"):
            raise PanelUnavailable("The VirtFusion panel sent no login link.")
        return path


def _error(status: int, detail: str) -> Exception:
    """The contract's error for a non-2xx reply."""
    if status in (401, 403):
        return PanelRejected("The VirtFusion panel refused our API token (check it and its permissions).")
    if status == 404:
        return GoneFromPanel(detail or "Not found on the VirtFusion panel.")
    if status in (409, 423):
        return PanelBusy("The server is busy with another task on the panel; trying again shortly.")
    if status == 429 or status >= 500:
        return PanelUnavailable(f"The VirtFusion panel is unavailable (HTTP {status}).")
    if detail and any(word in detail.lower() for word in _CAPACITY_WORDS):
        return OutOfStock(f"No capacity left on the panel: {detail}")
    return PanelRejected(f"The VirtFusion panel refused the request: {detail or f'HTTP {status}'}")


def _dict(value: Any) -> dict[str, Any]:  # noqa: ANN401 (JSON)
    if not isinstance(value, dict):
        raise PanelUnavailable("The VirtFusion panel sent a malformed reply.")
    return value


def _list(value: Any) -> list[dict[str, Any]]:  # noqa: ANN401 (JSON)
    items = value.get("data") if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise PanelUnavailable("The VirtFusion panel sent a malformed reply.")
    return [i for i in items if isinstance(i, dict)]
