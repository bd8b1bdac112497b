"""A thin httpx client of the Kasm Workspaces Developer API (`POST /api/public/<call>`).

Credentials travel in the JSON body (`api_key`, `api_key_secret`; Kasm ≤ 1.19) or as HTTP
Basic (newer docs), per server. Kasm reports errors as `{"error_message": ...}`, sometimes
with HTTP 200, so every reply is checked. Timeouts, connection failures, 5xx and malformed
replies are transient and retried with backoff — except that calls which create something
(`create_user`, `request_kasm`) are only retried when the request never reached the server,
so a lost reply cannot create a second session (provisioning adopts it instead).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from ezscale import clock
from ezscale.settings import Settings, get_settings

log = logging.getLogger(__name__)

RUNNING = "running"
# operational_status values after which a session no longer runs (and is not billed).
NOT_RUNNING = frozenset(
    {
        "pausing",
        "paused",
        "stopping",
        "stopped",
        "saving",
        "delete_pending",
        "admin_delete_pending",
        "user_delete_pending",
        "destroying",
        "deleting",
    }
)


class KasmError(Exception):
    """A call Kasm refused (bad request, missing permission): retrying will not help."""


class KasmTransientError(KasmError):
    """Timeout, connection failure, 5xx or a malformed reply: worth retrying later."""


class KasmNotFound(KasmError):
    """The session or user does not exist (any more)."""


def parse_time(value: str | None) -> datetime | None:
    """Kasm's timestamps (`2026-11-01 09:00:00.123456`, UTC without offset) as aware datetimes."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class KasmUser:
    """A Kasm user account."""

    user_id: str
    username: str


@dataclass(frozen=True, slots=True)
class KasmImage:
    """A workspace image Kasm offers."""

    image_id: str
    name: str
    friendly_name: str
    cores: float
    memory: int


@dataclass(frozen=True, slots=True)
class KasmRequested:
    """Kasm's answer to a session request: the new session's id and first status."""

    kasm_id: str
    user_id: str
    status: str
    kasm_url: str


@dataclass(frozen=True, slots=True)
class KasmStatus:
    """A session's status as Kasm reports it."""

    kasm_id: str
    operational_status: str
    operational_message: str
    kasm_url: str
    current_time: datetime | None
    start_date: datetime | None = None

    @property
    def running(self) -> bool:
        """Whether Kasm reports the session as running."""
        return self.operational_status == RUNNING


@dataclass(frozen=True, slots=True)
class KasmSession:
    """One session in a `get_kasms` listing."""

    kasm_id: str
    user_id: str
    image_id: str
    operational_status: str
    start_date: datetime | None
    keepalive_date: datetime | None
    expiration_date: datetime | None


@dataclass(frozen=True, slots=True)
class KasmList:
    """Every session Kasm runs, with Kasm's clock and ours at the time of the listing."""

    kasms: list[KasmSession]
    current_time: datetime | None
    taken_at: datetime | None = None  # our clock just before the request: the listing is no older


def _session(data: dict[str, Any]) -> KasmSession:
    return KasmSession(
        kasm_id=str(data["kasm_id"]),
        user_id=str(data.get("user_id") or ""),
        image_id=str(data.get("image_id") or ""),
        operational_status=str(data.get("operational_status") or ""),
        start_date=parse_time(data.get("start_date")),
        keepalive_date=parse_time(data.get("keepalive_date")),
        expiration_date=parse_time(data.get("expiration_date")),
    )


class KasmClient:
    """One Kasm server. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        api_secret: str,
        auth_mode: str = "body",
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`transport` lets tests and the simulator swap the network; `auth_mode` is how the key is sent."""
        if auth_mode not in ("body", "basic"):
            raise ValueError("auth_mode must be 'body' or 'basic'")
        self.base_url = base_url.rstrip("/")
        self._key, self._secret, self._mode = api_key, api_secret, auth_mode
        self._retries, self._backoff, self._sleep = retries, backoff, sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            auth=(api_key, api_secret) if auth_mode == "basic" else None,
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> "KasmClient":  # noqa: ANN401 (any KasmClient option)
        """A client for the configured Kasm server; keyword overrides replace single options."""
        settings = settings or get_settings()
        options: dict[str, Any] = dict(
            base_url=settings.kasm_api_url,
            api_key=settings.kasm_api_key,
            api_secret=settings.kasm_api_secret,
            auth_mode=settings.kasm_auth_mode,
            timeout=settings.kasm_timeout_seconds,
            retries=settings.kasm_retries,
        )
        options.update(overrides)
        return cls(**options)

    def __enter__(self) -> "KasmClient":
        """Use as a context manager so the HTTP connections are closed."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the HTTP connections when the block ends."""
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def absolute_url(self, kasm_url: str) -> str:
        """Kasm returns `/#/connect/...` paths to append to the server URL."""
        return kasm_url if kasm_url.startswith("http") else f"{self.base_url}{kasm_url}"

    def call(self, name: str, payload: dict[str, Any] | None = None, *, safe: bool = True) -> dict[str, Any]:
        """POST one API call; returns the reply body or raises a KasmError."""
        body = dict(payload or {})
        if self._mode == "body":
            body.update(api_key=self._key, api_key_secret=self._secret)
        attempt = 0
        while True:
            try:
                return self._once(name, body)
            except (KasmTransientError, httpx.TransportError) as error:
                sent = not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                attempt += 1
                if attempt > self._retries or (sent and not safe):
                    if isinstance(error, httpx.TransportError):
                        raise KasmTransientError(f"Kasm {name}: {type(error).__name__}") from error
                    raise
                log.info("kasm %s failed (%s), retry %d", name, error, attempt)
                self._sleep(self._backoff * 2 ** (attempt - 1))

    def _once(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(f"/api/public/{name}", json=body)
        except httpx.TimeoutException as error:
            raise KasmTransientError(f"Kasm {name}: timed out") from error
        if response.status_code >= 500:
            raise KasmTransientError(f"Kasm {name}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as error:
            raise KasmTransientError(f"Kasm {name}: malformed reply") from error
        if not isinstance(data, dict):
            raise KasmTransientError(f"Kasm {name}: malformed reply")
        message = data.get("error_message")
        if message:
            text = str(message)
            if "not found" in text.lower() or "does not exist" in text.lower():
                raise KasmNotFound(f"Kasm {name}: {text}")
            raise KasmError(f"Kasm {name}: {text}")
        if response.status_code >= 400:
            raise KasmError(f"Kasm {name}: HTTP {response.status_code}")
        return data

    def _field(self, data: dict[str, Any], *path: str) -> Any:  # noqa: ANN401 (a JSON value)
        value: Any = data
        for key in path:
            if not isinstance(value, dict) or key not in value:
                raise KasmTransientError(f"Kasm reply lacks {'.'.join(path)}")
            value = value[key]
        return value

    def create_user(
        self, *, username: str, password: str, first_name: str = "", last_name: str = ""
    ) -> KasmUser:
        """Create a Kasm user (one per customer)."""
        target = dict(
            username=username,
            password=password,
            first_name=first_name,
            last_name=last_name,
            organization="",
            phone="",
            locked=False,
            disabled=False,
        )
        data = self.call("create_user", {"target_user": target}, safe=False)
        return KasmUser(str(self._field(data, "user", "user_id")), str(self._field(data, "user", "username")))

    def get_user(self, *, username: str | None = None, user_id: str | None = None) -> KasmUser:
        """Look a Kasm user up by name or id."""
        target = {"user_id": user_id} if user_id else {"username": username}
        data = self.call("get_user", {"target_user": target})
        return KasmUser(str(self._field(data, "user", "user_id")), str(self._field(data, "user", "username")))

    def update_user(self, *, user_id: str, password: str) -> None:
        """Set a Kasm user's password."""
        self.call("update_user", {"target_user": {"user_id": user_id, "password": password}})

    def get_images(self) -> list[KasmImage]:
        """The images Kasm offers, for the workspace templates."""
        images = self._field(self.call("get_images"), "images")
        return [
            KasmImage(
                image_id=str(i["image_id"]),
                name=str(i.get("name", "")),
                friendly_name=str(i.get("friendly_name", "")),
                cores=float(i.get("cores") or 0),
                memory=int(i.get("memory") or 0),
            )
            for i in images
        ]

    def request_kasm(
        self, *, user_id: str, image_id: str, environment: dict[str, str] | None = None
    ) -> KasmRequested:
        """Request a new session of an image for a user."""
        payload: dict[str, Any] = {"user_id": user_id, "image_id": image_id}
        if environment:
            payload["environment"] = environment
        data = self.call("request_kasm", payload, safe=False)
        return KasmRequested(
            kasm_id=str(self._field(data, "kasm_id")),
            user_id=str(data.get("user_id") or user_id),
            status=str(data.get("status") or ""),
            kasm_url=self.absolute_url(str(data.get("kasm_url") or "")),
        )

    def get_kasm_status(self, *, kasm_id: str, user_id: str | None) -> KasmStatus:
        """Status of a session. Every call rotates its token: use the `kasm_url` at once."""
        data = self.call(
            "get_kasm_status", {"kasm_id": kasm_id, "user_id": user_id, "skip_agent_check": True}
        )
        kasm = data.get("kasm") if isinstance(data.get("kasm"), dict) else None
        status = (kasm or {}).get("operational_status") or data.get("operational_status") or ""
        return KasmStatus(
            kasm_id=kasm_id,
            operational_status=str(status),
            operational_message=str(data.get("operational_message") or ""),
            kasm_url=self.absolute_url(str(data.get("kasm_url") or "")) if data.get("kasm_url") else "",
            current_time=parse_time(data.get("current_time")),
            start_date=parse_time((kasm or {}).get("start_date")),
        )

    def get_kasms(self) -> KasmList:
        """Every session on the Kasm server, stamped with our clock just before the request."""
        taken_at = clock.now()
        data = self.call("get_kasms")
        kasms = self._field(data, "kasms")
        if not isinstance(kasms, list):
            raise KasmTransientError("Kasm get_kasms: malformed reply")
        return KasmList([_session(k) for k in kasms], parse_time(data.get("current_time")), taken_at)

    def get_user_kasms(self, *, user_id: str) -> list[KasmSession]:
        """The sessions of one Kasm user."""
        data = self.call("get_user_kasms", {"user_id": user_id})
        return [_session(k) for k in self._field(data, "kasms")]

    def keepalive(self, *, kasm_id: str) -> bool:
        """Extend a session; returns True when Kasm's own usage limit has been reached."""
        return bool(self.call("keepalive", {"kasm_id": kasm_id}).get("usage_reached"))

    def destroy_kasm(self, *, kasm_id: str, user_id: str | None) -> None:
        """Destroy a session and its container."""
        self.call("destroy_kasm", {"kasm_id": kasm_id, "user_id": user_id})

    def stop_kasm(self, *, kasm_id: str, user_id: str | None) -> None:
        """Stop a session; a persistent one can be resumed later."""
        self.call("stop_kasm", {"kasm_id": kasm_id, "user_id": user_id})

    def pause_kasm(self, *, kasm_id: str, user_id: str) -> None:
        """Pause a session (its memory is kept)."""
        self.call("pause_kasm", {"kasm_id": kasm_id, "user_id": user_id})

    def resume_kasm(self, *, kasm_id: str, user_id: str) -> None:
        """Resume a stopped or paused session."""
        self.call("resume_kasm", {"kasm_id": kasm_id, "user_id": user_id})
