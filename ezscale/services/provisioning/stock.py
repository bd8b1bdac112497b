"""Stock before money: whether a plan can be delivered now, asked of its panel.

The order quote and `place_order` call `require_in_stock` before any invoice or charge; the
provisioning job asks again before it creates (`confirm`), unless a check seconds ago said yes
(the panel's create still refuses what no longer fits: OutOfStock, refunded). A plan with no
panel mapping is not limited. The answer is kept for a few seconds per plan so a storefront page
does not ask the panel per card, nor a burst of deliveries per order.
"""

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.provisioning import PanelPlanMapping, ProvisioningPanel
from ezscale.services.provisioning.module import (
    OutOfStock,
    PanelBusy,
    PanelUnavailable,
    ProvisioningError,
    Stock,
)
from ezscale.services.provisioning.registry import build_module, module_for_plan, plan_mapping

CACHE_SECONDS = 10.0
_cache: dict[str, tuple[float, Stock | None]] = {}
_in_flight: dict[str, "Future[Stock | None]"] = {}  # per plan: the check its callers share
_guard = threading.Lock()


def check_plan(plan_code: str, *, fresh: bool = False) -> Stock | None:
    """The plan's stock on its panel, or None when the plan is not delivered on a panel.

    `fresh` skips the kept answer, not a check already in flight for the plan (orders placed
    together share it: its answer is as new as one of their own). DomainError (clear, safe to
    show) when the panel cannot answer now: we do not sell what we cannot confirm."""
    cached = _cache.get(plan_code)
    if not fresh and cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]

    def ask() -> Stock | None:
        with central_session() as central:
            resolved = module_for_plan(central, plan_code)
        if resolved is None:
            return None
        module, mapping = resolved
        return module.check_capacity(mapping)

    try:
        return _shared(plan_code, ask)
    except (PanelUnavailable, PanelBusy) as error:
        raise DomainError(
            "We cannot confirm stock for this product right now; please try again in a few minutes."
        ) from error
    except ProvisioningError as error:
        raise DomainError("This product is temporarily unavailable.") from error


def confirm(plan_code: str, check: Callable[[], Stock]) -> Stock | None:
    """The provisioning job's check before a create: one that found the plan in stock in the last
    few seconds, else `check()` (the panel's answer, kept); None when the panel could not answer
    (the create then asks it: every module's create refuses what does not fit). Deliveries of a
    plan that start together share one check in flight instead of each asking the panel."""
    at, stock = _cache.get(plan_code, (0.0, None))
    if stock is not None and stock.in_stock and time.monotonic() - at < CACHE_SECONDS:
        return stock  # a "no" is never reused: the panel is asked again
    try:
        return _shared(plan_code, check)
    except (PanelUnavailable, PanelBusy):
        return None


def _shared(plan_code: str, check: Callable[[], Stock | None]) -> Stock | None:
    """`check()`'s answer (kept), or that of the check of this plan already in flight."""
    with _guard:
        flight = _in_flight.get(plan_code)
        leader = flight is None
        if flight is None:
            flight = _in_flight[plan_code] = Future()
    if not leader:
        return flight.result()
    try:
        stock = check()
        _cache[plan_code] = (time.monotonic(), stock)
    except BaseException as error:
        flight.set_exception(error)
        raise
    else:
        flight.set_result(stock)
        return stock
    finally:
        with _guard:
            _in_flight.pop(plan_code, None)


def require_in_stock(plan_code: str) -> None:
    """Refuse (OutOfStock, a DomainError) an order of a plan its panel has no room for."""
    stock = check_plan(plan_code, fresh=True)
    if stock is not None and not stock.in_stock:
        raise OutOfStock(
            "This product is out of stock right now; nothing was charged. Please try again later."
        )


def in_stock(plan_code: str) -> bool | None:
    """For the storefront: True/False per the panel, None when not limited or unknown."""
    try:
        stock = check_plan(plan_code)
    except DomainError:
        return None
    return None if stock is None else stock.in_stock


@dataclass(frozen=True, slots=True)
class CapacityRow:
    """One mapped plan's stock on its panel, for the admin capacity view."""

    panel: str
    module: str
    plan_code: str
    package: str
    available: str  # a count, "unlimited", or "unknown" when the panel did not answer
    detail: str


def capacity_view(central: Session) -> list[CapacityRow]:
    """Every mapped plan's stock now, asked of each panel (by panel, then plan code)."""
    rows = []
    mappings = central.exec(
        select(PanelPlanMapping, ProvisioningPanel)
        .join(ProvisioningPanel, col(ProvisioningPanel.id) == PanelPlanMapping.panel_id)
        .order_by(ProvisioningPanel.label, PanelPlanMapping.plan_code)
    ).all()
    for mapping, panel in mappings:
        try:
            stock = build_module(panel).check_capacity(plan_mapping(mapping))
            available = "unlimited" if stock.available is None else str(stock.available)
            detail = stock.detail
        except DomainError as error:
            available, detail = "unknown", str(error)
        if not panel.enabled:
            detail = f"Panel disabled. {detail}"
        rows.append(
            CapacityRow(panel.label, panel.module, mapping.plan_code, mapping.package, available, detail)
        )
    return rows


def forget() -> None:
    """Drop the remembered answers (tests, and after a panel or mapping changes)."""
    _cache.clear()
