"""Live workspace dashboards without per-tab polling.

Open dashboards register here. One lifespan task per backend process pushes a fresh dashboard,
through `app.modify_state`, only to the tabs of customers whose workspaces changed:
- with Redis, the moment a writer commits (`services.kasm_signal` publishes every change);
- and by polling `changed_at` (one small query per tenant with watchers, however many tabs are
  open): 20 times a second without Redis, once a second with it to catch a lost message.
Each change is pushed once whichever path sees it first. Timers and running costs tick in the
browser, so an idle dashboard costs the backend nothing per second.
"""

import asyncio
import logging
from datetime import datetime, timedelta

import redis.asyncio as aioredis
import reflex as rx

from ezscale import clock
from ezscale.services.kasm.signal import CHANNEL, Change
from ezscale.services.kasm.view import load_view, recently_changed
from ezscale.services.tenancy.tenants import TenantInfo, tenant_info, tenant_session
from ezscale.settings import get_settings

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05
FALLBACK_POLL_SECONDS = 1.0
LOOKBACK = timedelta(seconds=10)

# client token → (tenant id, user id)
_watchers: dict[str, tuple[int, int]] = {}


def watch(token: str, tenant_id: int, user_id: int) -> None:
    if token and tenant_id and user_id:
        _watchers[token] = (tenant_id, user_id)


def _watched() -> dict[int, set[int]]:
    watched: dict[int, set[int]] = {}
    for tenant_id, user_id in _watchers.values():
        watched.setdefault(tenant_id, set()).add(user_id)
    return watched


class _Tracker:
    """Remembers when each recent workspace change or notice was seen, so each is pushed once."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, str], datetime] = {}
        self.tenants: dict[int, TenantInfo] = {}

    def tenant(self, tenant_id: int) -> TenantInfo:
        return self.tenants.get(tenant_id) or self.tenants.setdefault(tenant_id, tenant_info(tenant_id))

    def is_new(self, tenant_id: int, row_key: str, changed_at: datetime) -> bool:
        key = (tenant_id, row_key)
        if self.seen.get(key) == changed_at:
            return False
        self.seen[key] = changed_at
        return True

    def changed_users(self, watched: dict[int, set[int]]) -> set[tuple[int, int]]:
        since = clock.now() - LOOKBACK
        changed: set[tuple[int, int]] = set()
        for tenant_id, user_ids in watched.items():
            with tenant_session(self.tenant(tenant_id)) as db:
                rows = recently_changed(db, user_ids=user_ids, since=since)
            changed |= {(tenant_id, user) for key, user, at in rows if self.is_new(tenant_id, key, at)}
        self.seen = {k: at for k, at in self.seen.items() if at >= since}
        return changed


async def _refresh(app: rx.App, tracker: _Tracker, key: tuple[int, int]) -> int:
    """Re-read one customer's dashboard (in a thread, off the event loop) and push it to their tabs."""
    from ezscale.state.kasm import KasmState

    tokens = [token for token, watched in _watchers.items() if watched == key]
    if not tokens:
        return 0
    view = await asyncio.to_thread(load_view, tracker.tenant(key[0]), key[1])
    for token in tokens:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=KasmState)) as root:
            state = await root.get_state(KasmState)
            state._apply(view)
    return len(tokens)


async def push_once(app: rx.App, tracker: _Tracker) -> int:
    """One poll: drop closed tabs, find changed customers, refresh their tabs. Returns tabs pushed."""
    connected = app.event_namespace.token_to_sid if app.event_namespace else {}
    for token in [t for t in _watchers if t not in connected]:
        _watchers.pop(token, None)
    watched = _watched()
    if not watched:
        return 0
    changed = await asyncio.to_thread(tracker.changed_users, watched)
    # Customers are refreshed side by side, so a burst of changes does not queue behind itself.
    return sum(await asyncio.gather(*(_refresh(app, tracker, key) for key in changed)))


async def push_signalled(app: rx.App, tracker: _Tracker, change: Change) -> int:
    """Push one published change, unless nobody watches that customer or it was already pushed."""
    for tenant_id, user_ids in _watched().items():
        ours = change.user_id in user_ids and tracker.tenant(tenant_id).database_name == change.database
        if ours and tracker.is_new(tenant_id, change.key, change.at):
            return await _refresh(app, tracker, (tenant_id, change.user_id))
    return 0


async def _poll(app: rx.App, tracker: _Tracker, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await push_once(app, tracker)
        except Exception:
            log.exception("kasm live dashboard poll failed")


async def _listen(app: rx.App, tracker: _Tracker, url: str) -> None:
    """Push each change published on Redis as it arrives; resubscribe after a lost connection."""
    pushes: set[asyncio.Task] = set()
    while True:
        try:
            client = aioredis.Redis.from_url(url)
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(CHANNEL)
                async for message in pubsub.listen():
                    change = Change.decode(message["data"].decode())
                    if change is not None:
                        task = asyncio.create_task(push_signalled(app, tracker, change))
                        pushes.add(task)
                        task.add_done_callback(pushes.discard)
        except Exception:
            log.exception("kasm live signal subscription lost; resubscribing")
            await asyncio.sleep(1)


async def live_updates(app: rx.App) -> None:
    """The lifespan task: listen for signalled changes (with Redis) and poll, until the app stops."""
    tracker = _Tracker()
    url = get_settings().redis_url
    if url is None:
        await _poll(app, tracker, POLL_SECONDS)
        return
    await asyncio.gather(_poll(app, tracker, FALLBACK_POLL_SECONDS), _listen(app, tracker, url))
