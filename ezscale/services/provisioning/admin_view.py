"""What the platform admin's Panels page shows: the panels (no secrets: credential names only),
each plan's mapping, and the installed modules, as rows of text ready for the page."""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale.services.provisioning import panels, registry


@dataclass(frozen=True, slots=True)
class PanelView:
    """A panel's row, and what its edit form starts from (`options` as name=value lines)."""

    id: int
    module: str
    label: str
    base_url: str
    enabled: bool
    credentials: str  # the names of the credentials set, or "none"
    options: str
    timeout: str
    last_test: str
    test_ok: str  # "ok", "failed", or "" when never tested


@dataclass(frozen=True, slots=True)
class MappingView:
    """A house plan code and the panel and package it is delivered on."""

    plan_code: str
    panel: str
    module: str
    package: str


@dataclass(frozen=True, slots=True)
class ModuleChoice:
    """An installed provisioning module, as the panel form offers it."""

    name: str
    label: str


def panel_view(row: panels.PanelRow) -> PanelView:
    """One panel as the page shows it."""
    return PanelView(
        id=row.id,
        module=row.module,
        label=row.label,
        base_url=row.base_url,
        enabled=row.enabled,
        credentials=", ".join(row.credential_names) or "none",
        options="\n".join(f"{k}={v}" for k, v in row.options.items()),
        timeout=f"{row.timeout_seconds:g}",
        last_test=row.last_test,
        test_ok="" if row.last_test_ok is None else "ok" if row.last_test_ok else "failed",
    )


def panel_views(central: Session) -> list[PanelView]:
    """Every configured panel."""
    return [panel_view(p) for p in panels.list_panels(central)]


def mapping_views(central: Session) -> list[MappingView]:
    """Every plan mapping, by plan code."""
    return [
        MappingView(m.plan_code, m.panel_label, m.module, m.package) for m in panels.list_mappings(central)
    ]


def module_choices() -> list[ModuleChoice]:
    """The modules a new panel can use."""
    return [ModuleChoice(name, label) for name, label in registry.available_modules()]
