"""Live workspace dashboards without per-tab polling.

Open dashboards register here. One lifespan task per backend process looks, ten times a second, for
workspaces of the watched customers whose `changed_at` moved (one small query per tenant with
watchers, however many tabs are open), and pushes a fresh dashboard only to the tabs of those
customers through `app.modify_state`. Timers and running costs tick in the browser.
"""

import asyncio
import logging
from datetime import datetime, timedelta

import reflex as rx

from ezscale import clock
from ezscale.services.kasm_view import load_view, recently_changed
from ezscale.services.tenancy import TenantInfo, tenant_info, tenant_session

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
LOOKBACK = timedelta(seconds=10)

# client token → (tenant id, user id)
_watchers: dict[str, tuple[int, int]] = {}


def watch(token: str, tenant_id: int, user_id: int) -> None:
    if token and tenant_id and user_id:
        _watchers[token] = (tenant_id, user_id)


class _Tracker:
    """Remembers when each recent workspace change or notice was seen, so each is pushed once."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, str], datetime] = {}
        self.tenants: dict[int, TenantInfo] = {}

    def changed_users(self, watched: dict[int, set[int]]) -> set[tuple[int, int]]:
        since = clock.now() - LOOKBACK
        changed: set[tuple[int, int]] = set()
        for tenant_id, user_ids in watched.items():
            tenant = self.tenants.get(tenant_id) or self.tenants.setdefault(tenant_id, tenant_info(tenant_id))
            with tenant_session(tenant) as db:
                rows = recently_changed(db, user_ids=user_ids, since=since)
            for row_key, user_id, changed_at in rows:
                key = (tenant_id, row_key)
                if self.seen.get(key) != changed_at:
                    self.seen[key] = changed_at
                    changed.add((tenant_id, user_id))
        self.seen = {k: at for k, at in self.seen.items() if at >= since}
        return changed


async def push_once(app: rx.App, tracker: _Tracker) -> int:
    """One round: drop closed tabs, find changed customers, refresh their tabs. Returns tabs pushed."""
    from ezscale.state.kasm import KasmState

    connected = app.event_namespace.token_to_sid if app.event_namespace else {}
    for token in [t for t in _watchers if t not in connected]:
        _watchers.pop(token, None)
    watched: dict[int, set[int]] = {}
    for tenant_id, user_id in _watchers.values():
        watched.setdefault(tenant_id, set()).add(user_id)
    if not watched:
        return 0
    changed = await asyncio.to_thread(tracker.changed_users, watched)
    tabs: dict[tuple[int, int], list[str]] = {}
    for token, key in _watchers.items():
        tabs.setdefault(key, []).append(token)

    async def refresh(key: tuple[int, int]) -> int:
        # One read per changed customer (in a thread, off the event loop), shared by their tabs.
        view = await asyncio.to_thread(load_view, tracker.tenants[key[0]], key[1])
        for token in tabs.get(key, []):
            async with app.modify_state(rx.BaseStateToken(ident=token, cls=KasmState)) as root:
                state = await root.get_state(KasmState)
                state._apply(view)
        return len(tabs.get(key, []))

    # Customers are refreshed side by side, so a burst of changes does not queue behind itself.
    return sum(await asyncio.gather(*(refresh(key) for key in changed)))


async def live_updates(app: rx.App) -> None:
    """The lifespan task: `push_once` every POLL_SECONDS until the app stops."""
    tracker = _Tracker()
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            await push_once(app, tracker)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("kasm live dashboard push failed")
