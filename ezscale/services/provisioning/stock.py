"""Stock before money: whether a plan can be delivered now, asked of its panel.

The order quote and `place_order` call `require_in_stock` before any invoice or charge; the
provisioning job asks again before it creates, unless a check seconds ago said yes (the panel's
create still refuses what no longer fits: OutOfStock, refunded). A plan with no panel mapping is
not limited. The answer is kept for a few seconds per plan so a storefront page does not ask the
panel per card, nor a burst of deliveries per order.
"""

import time
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


def check_plan(plan_code: str, *, fresh: bool = False) -> Stock | None:
    """The plan's stock on its panel, or None when the plan is not delivered on a panel.

    DomainError (clear, safe to show) when the panel cannot answer now: we do not sell what we
    cannot confirm."""
    now = time.monotonic()
    cached = _cache.get(plan_code)
    if not fresh and cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    with central_session() as central:
        resolved = module_for_plan(central, plan_code)
    if resolved is None:
        stock = None
    else:
        module, mapping = resolved
        try:
            stock = module.check_capacity(mapping)
        except (PanelUnavailable, PanelBusy) as error:
            raise DomainError(
                "We cannot confirm stock for this product right now; please try again in a few minutes."
            ) from error
        except ProvisioningError as error:
            raise DomainError("This product is temporarily unavailable.") from error
    _cache[plan_code] = (now, stock)
    return stock


def recently_in_stock(plan_code: str) -> bool:
    """Whether a check of the last few seconds found the plan in stock (a "no" is never reused)."""
    cached = _cache.get(plan_code)
    return (
        cached is not None
        and time.monotonic() - cached[0] < CACHE_SECONDS
        and cached[1] is not None
        and cached[1].in_stock
    )


def remember(plan_code: str, stock: Stock) -> Stock:
    """Keep a fresh answer of the plan's panel (the provisioning job's own check); returns it."""
    _cache[plan_code] = (time.monotonic(), stock)
    return stock


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
