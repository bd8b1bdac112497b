"""Which module speaks to which panel, and which panel and package a plan maps to.

Modules are imported lazily by name (`ezscale.services.provisioning.<name>`), so a product whose
module is not installed simply does not appear. A module file exposes its class as `MODULE`, or
as the one class whose `name` is the module name. Each is built as `Cls(config: PanelConfig)`.
"""

import importlib
import json
from typing import Any

from sqlmodel import Session, select

from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import PanelPlanMapping, ProvisioningPanel
from ezscale.services.provisioning.module import PanelConfig, PlanMapping, ProvisioningModule

MODULES: dict[str, str] = {
    "virtfusion": "ezscale.services.provisioning.virtfusion",
    "pterodactyl": "ezscale.services.provisioning.pterodactyl",
    "enhance": "ezscale.services.provisioning.enhance",
    "synergycp": "ezscale.services.provisioning.synergycp",
}


def module_class(name: str) -> type[ProvisioningModule]:
    """The module class registered as `name`; DomainError for an unknown or missing one."""
    path = MODULES.get(name)
    if path is None:
        raise DomainError(f"Unknown provisioning module {name!r}.")
    try:
        found = importlib.import_module(path)
    except ModuleNotFoundError as error:
        raise DomainError(f"The {name} module is not installed.") from error
    cls = getattr(found, "MODULE", None)
    if cls is None:
        cls = next(
            (
                v
                for v in vars(found).values()
                if isinstance(v, type) and getattr(v, "name", None) == name and hasattr(v, "create")
            ),
            None,
        )
    if cls is None:
        raise DomainError(f"The {name} module has no module class.")
    return cls


def available_modules() -> list[tuple[str, str]]:
    """(name, label) of the modules that are installed, for the panel form."""
    found = []
    for name in MODULES:
        try:
            found.append((name, module_class(name).label))
        except DomainError:
            continue
    return found


def loads(text: str) -> dict[str, str]:
    """A JSON object of strings from a column (empty or malformed: empty)."""
    try:
        value: Any = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def panel_config(panel: ProvisioningPanel) -> PanelConfig:
    """The plain configuration a module is built with (credentials decrypted)."""
    return PanelConfig(
        module=panel.module,
        base_url=panel.base_url.rstrip("/"),
        credentials=loads(panel.credentials),
        options=loads(panel.options),
        timeout_seconds=panel.timeout_seconds,
    )


def build_module(panel: ProvisioningPanel) -> ProvisioningModule:
    """The panel's module instance."""
    return module_class(panel.module)(panel_config(panel))


def panel_module(central: Session, panel_id: int) -> ProvisioningModule:
    """The module of a configured panel by id (NotFound if it is gone)."""
    panel = central.get(ProvisioningPanel, panel_id)
    if panel is None:
        raise NotFound("No such panel.")
    return build_module(panel)


def mapping_for_plan(central: Session, plan_code: str) -> PanelPlanMapping | None:
    """The mapping row of a plan code (a reseller plan shares the house plan's code)."""
    return central.exec(select(PanelPlanMapping).where(PanelPlanMapping.plan_code == plan_code)).first()


def is_provisioned(plan_code: str) -> bool:
    """Whether a plan is delivered on a panel (it has a mapping); opens its own central session."""
    from ezscale.db import central_session

    with central_session() as central:
        return mapping_for_plan(central, plan_code) is not None


def plan_mapping(row: PanelPlanMapping) -> PlanMapping:
    """A mapping row as the module contract's value."""
    return PlanMapping(package=row.package, options=loads(row.options))


def module_for_plan(central: Session, plan_code: str) -> tuple[ProvisioningModule, PlanMapping] | None:
    """The module and mapping that deliver `plan_code`, or None when the plan is not provisioned
    on a panel (nothing to deliver, e.g. an unmapped plan). A disabled panel raises DomainError:
    the plan is mapped but cannot be sold or delivered now."""
    row = mapping_for_plan(central, plan_code)
    if row is None:
        return None
    panel = central.get(ProvisioningPanel, row.panel_id)
    if panel is None:
        return None
    if not panel.enabled:
        raise DomainError("This product is temporarily unavailable.")
    return build_module(panel), plan_mapping(row)
