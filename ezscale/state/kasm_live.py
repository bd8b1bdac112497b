"""Live workspace dashboards without per-tab polling.

Open dashboards register here. One lifespan task per backend process pushes, through
`app.modify_state`, only to the tabs of the customer a change belongs to:
- the moment a writer commits: `services/kasm/signal.py` announces every change (Redis pub/sub,
  PostgreSQL NOTIFY or, on SQLite, a datagram to this process) and `signal_listen.changes()`
  hears it; only the changed workspace (or the notices) is re-read and patched into the tabs;
- and a safety poll every `SAFETY_POLL_SECONDS` of `changed_at` (one small query per tenant with
  watchers, however many tabs are open), which re-reads whole dashboards. It is kept, slow, in
  every mode because an announcement can be lost without anyone noticing: a datagram dropped
  while this process was behind, a Redis or LISTEN connection being re-established, or a writer
  that never installed the hooks. Three seconds bounds the delay of such a rare miss while
  costing an idle backend nearly nothing.
Each change is pushed once whichever path sees it first. Timers and running costs tick in the
browser, so an idle dashboard costs the backend nothing per second.
"""

import asyncio
import logging
from datetime import datetime, timedelta

import reflex as rx

from ezscale import clock
from ezscale.services.kasm.signal import Change
from ezscale.services.kasm.signal_listen import changes
from ezscale.services.kasm.view import Dashboard, Patch, load_patch, load_view, recently_changed
from ezscale.services.tenancy.tenants import TenantInfo, tenant_info, tenant_session

log = logging.getLogger(__name__)

SAFETY_POLL_SECONDS = 3.0
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
    """Remembers when each recent workspace change or notice was seen, so each is pushed once,
    and serialises the pushes to one customer's tabs (a later read is never overwritten by an
    earlier one)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, str], datetime] = {}
        self.tenants: dict[int, TenantInfo] = {}
        self.locks: dict[tuple[int, int], asyncio.Lock] = {}

    def tenant(self, tenant_id: int) -> TenantInfo:
        return self.tenants.get(tenant_id) or self.tenants.setdefault(tenant_id, tenant_info(tenant_id))

    def lock(self, key: tuple[int, int]) -> asyncio.Lock:
        return self.locks.get(key) or self.locks.setdefault(key, asyncio.Lock())

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


async def _push(app: rx.App, tokens: list[str], update: Dashboard | Patch) -> None:
    from ezscale.state.kasm import KasmState

    for token in tokens:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=KasmState)) as root:
            state = await root.get_state(KasmState)
            if isinstance(update, Patch):
                state._patch(update)
            else:
                state._apply(update)


def _tokens(key: tuple[int, int]) -> list[str]:
    return [token for token, watched in _watchers.items() if watched == key]


async def _refresh(app: rx.App, tracker: _Tracker, key: tuple[int, int]) -> int:
    """Re-read one customer's whole dashboard (in a thread, off the event loop), push it to their tabs."""
    if not _tokens(key):
        return 0
    async with tracker.lock(key):
        view = await asyncio.to_thread(load_view, tracker.tenant(key[0]), key[1])
        tokens = _tokens(key)
        await _push(app, tokens, view)
    return len(tokens)


async def push_once(app: rx.App, tracker: _Tracker) -> int:
    """One safety poll: drop closed tabs, find changed customers, refresh their tabs. Returns tabs pushed."""
    connected = app.event_namespace.token_to_sid if app.event_namespace else {}
    for token in [t for t in _watchers if t not in connected]:
        _watchers.pop(token, None)
    watched = _watched()
    tracker.locks = {k: lock for k, lock in tracker.locks.items() if k[1] in watched.get(k[0], ())}
    if not watched:
        return 0
    changed = await asyncio.to_thread(tracker.changed_users, watched)
    # Customers are refreshed side by side, so a burst of changes does not queue behind itself.
    return sum(await asyncio.gather(*(_refresh(app, tracker, key) for key in changed)))


async def push_signalled(app: rx.App, tracker: _Tracker, change: Change) -> int:
    """Patch one announced change into its customer's open tabs (re-reading only that workspace or
    the notices), unless nobody watches that customer or it was already pushed. Returns tabs pushed."""
    for tenant_id, user_ids in _watched().items():
        ours = change.user_id in user_ids and tracker.tenant(tenant_id).database_name == change.database
        if ours and tracker.is_new(tenant_id, change.key, change.at):
            key = (tenant_id, change.user_id)
            async with tracker.lock(key):
                update = await asyncio.to_thread(
                    load_patch, tracker.tenant(tenant_id), change.user_id, change.key
                )
                tokens = _tokens(key)
                await _push(app, tokens, update)
            return len(tokens)
    return 0


async def _poll(app: rx.App, tracker: _Tracker) -> None:
    while True:
        await asyncio.sleep(SAFETY_POLL_SECONDS)
        try:
            await push_once(app, tracker)
        except Exception:
            log.exception("kasm live dashboard poll failed")


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("kasm live push failed", exc_info=task.exception())


async def _listen(app: rx.App, tracker: _Tracker) -> None:
    """Push each announced change as it arrives, side by side."""
    pushes: set[asyncio.Task] = set()
    while True:
        try:
            async for change in changes():
                task = asyncio.create_task(push_signalled(app, tracker, change))
                pushes.add(task)
                task.add_done_callback(pushes.discard)
                task.add_done_callback(_log_failure)
        except Exception:
            log.exception("kasm live listener failed; restarting")
            await asyncio.sleep(1)


async def live_updates(app: rx.App) -> None:
    """The lifespan task: listen for announced changes and run the safety poll, until the app stops."""
    tracker = _Tracker()
    await asyncio.gather(_poll(app, tracker), _listen(app, tracker))
