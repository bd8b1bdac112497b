"""Admin configuration of panels, plan mappings and the failure-refund setting (central, audited).

Credentials are stored encrypted as one JSON object and never shown back: the view lists only
which credential names are set, and an update keeps any credential sent empty.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import (
    FailureRefund,
    PanelPlanMapping,
    ProvisioningPanel,
    ProvisioningSettings,
)
from ezscale.models.types import row_id
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.provisioning.module import ProvisioningError
from ezscale.services.provisioning.registry import MODULES, build_module, loads, module_class


@dataclass(frozen=True, slots=True)
class PanelRow:
    """A panel as the admin page shows it (no secrets)."""

    id: int
    module: str
    label: str
    base_url: str
    enabled: bool
    credential_names: tuple[str, ...]
    options: dict[str, str]
    timeout_seconds: float
    last_test: str
    last_test_ok: bool | None


@dataclass(frozen=True, slots=True)
class MappingRow:
    """A plan code's mapping as the admin page shows it."""

    plan_code: str
    panel_id: int
    panel_label: str
    module: str
    package: str
    options: dict[str, str]


def _clean(values: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k).strip(): str(v).strip() for k, v in (values or {}).items() if str(k).strip()}


def _check_url(base_url: str) -> str:
    url = (base_url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("Enter the panel's URL, starting with https://.")
    return url


def _panel(central: Session, panel_id: int) -> ProvisioningPanel:
    panel = central.get(ProvisioningPanel, panel_id)
    if panel is None:
        raise NotFound("No such panel.")
    return panel


def _row(panel: ProvisioningPanel) -> PanelRow:
    tested = "never tested"
    if panel.last_test_at is not None:
        tested = f"{panel.last_test_at:%Y-%m-%d %H:%M} UTC: {panel.last_test_message}"
    return PanelRow(
        id=row_id(panel),
        module=panel.module,
        label=panel.label,
        base_url=panel.base_url,
        enabled=panel.enabled,
        credential_names=tuple(sorted(loads(panel.credentials))),
        options=loads(panel.options),
        timeout_seconds=panel.timeout_seconds,
        last_test=tested,
        last_test_ok=panel.last_test_ok,
    )


def list_panels(central: Session) -> list[PanelRow]:
    """Every configured panel, by label."""
    return [_row(p) for p in central.exec(select(ProvisioningPanel).order_by(ProvisioningPanel.label))]


def get_panel(central: Session, *, panel_id: int) -> PanelRow:
    """One panel (NotFound if none)."""
    return _row(_panel(central, panel_id))


def create_panel(
    central: Session,
    *,
    module: str,
    label: str,
    base_url: str,
    credentials: Mapping[str, str],
    options: Mapping[str, str] | None = None,
    timeout_seconds: float = 60.0,
    enabled: bool = True,
    actor: AuthUser,
    ip: str = "",
) -> PanelRow:
    """Add a panel (committed, audited without its credentials)."""
    if module not in MODULES:
        raise DomainError("Choose a provisioning module.")
    label = (label or "").strip()
    if not label or len(label) > 120:
        raise DomainError("Give the panel a name (up to 120 characters).")
    if central.exec(select(ProvisioningPanel.id).where(ProvisioningPanel.label == label)).first():
        raise DomainError("A panel with this name exists already.")
    if not 5 <= timeout_seconds <= 600:
        raise DomainError("The timeout must be between 5 and 600 seconds.")
    now = clock.now()
    panel = ProvisioningPanel(
        module=module,
        label=label,
        base_url=_check_url(base_url),
        credentials=json.dumps(_clean(credentials)),
        options=json.dumps(_clean(options)),
        timeout_seconds=float(timeout_seconds),
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )
    central.add(panel)
    central.flush()
    after = {"module": module, "label": label, "base_url": panel.base_url, "enabled": enabled}
    record_audit(
        session=central,
        actor=actor,
        action="provisioning.panel_create",
        target=f"panel:{panel.id}",
        after=after,
        ip=ip,
    )
    central.commit()
    return _row(panel)


def update_panel(
    central: Session,
    *,
    panel_id: int,
    label: str | None = None,
    base_url: str | None = None,
    credentials: Mapping[str, str] | None = None,
    options: Mapping[str, str] | None = None,
    timeout_seconds: float | None = None,
    enabled: bool | None = None,
    actor: AuthUser,
    ip: str = "",
) -> PanelRow:
    """Change a panel; a credential sent empty keeps its stored value. Committed and audited."""
    panel = _panel(central, panel_id)
    before = {"label": panel.label, "base_url": panel.base_url, "enabled": panel.enabled}
    if label is not None:
        label = label.strip()
        if not label or len(label) > 120:
            raise DomainError("Give the panel a name (up to 120 characters).")
        clash = central.exec(
            select(ProvisioningPanel.id).where(
                ProvisioningPanel.label == label, ProvisioningPanel.id != panel.id
            )
        ).first()
        if clash:
            raise DomainError("A panel with this name exists already.")
        panel.label = label
    if base_url is not None:
        panel.base_url = _check_url(base_url)
    if credentials is not None:
        stored = loads(panel.credentials)
        stored.update({k: v for k, v in _clean(credentials).items() if v})
        panel.credentials = json.dumps(stored)
    if options is not None:
        panel.options = json.dumps(_clean(options))
    if timeout_seconds is not None:
        if not 5 <= timeout_seconds <= 600:
            raise DomainError("The timeout must be between 5 and 600 seconds.")
        panel.timeout_seconds = float(timeout_seconds)
    if enabled is not None:
        panel.enabled = enabled
    panel.updated_at = clock.now()
    central.add(panel)
    after = {"label": panel.label, "base_url": panel.base_url, "enabled": panel.enabled}
    if credentials:
        after["credentials"] = "changed"
    record_audit(
        session=central,
        actor=actor,
        action="provisioning.panel_update",
        target=f"panel:{panel.id}",
        before=before,
        after=after,
        ip=ip,
    )
    central.commit()
    return _row(panel)


def test_connection(central: Session, *, panel_id: int, actor: AuthUser, ip: str = "") -> PanelRow:
    """Call the panel's cheap authenticated endpoint; the outcome is stored on the panel and
    audited. A failure is recorded, then raised as the module's clear message."""
    panel = _panel(central, panel_id)
    try:
        message, ok = build_module(panel).test_connection(), True
    except ProvisioningError as error:
        message, ok = str(error), False
    panel.last_test_at, panel.last_test_ok, panel.last_test_message = clock.now(), ok, message[:300]
    central.add(panel)
    record_audit(
        session=central,
        actor=actor,
        action="provisioning.panel_test",
        target=f"panel:{panel.id}",
        after={"ok": ok, "message": message[:300]},
        ip=ip,
    )
    central.commit()
    if not ok:
        raise DomainError(f"Connection failed: {message}")
    return _row(panel)


def list_mappings(central: Session) -> list[MappingRow]:
    """Every plan mapping, by plan code."""
    rows = central.exec(
        select(PanelPlanMapping, ProvisioningPanel)
        .join(ProvisioningPanel, col(ProvisioningPanel.id) == PanelPlanMapping.panel_id)
        .order_by(PanelPlanMapping.plan_code)
    )
    return [
        MappingRow(m.plan_code, row_id(p), p.label, p.module, m.package, loads(m.options)) for m, p in rows
    ]


def set_mapping(
    central: Session,
    *,
    plan_code: str,
    panel_id: int,
    package: str,
    options: Mapping[str, str] | None = None,
    actor: AuthUser,
    ip: str = "",
) -> MappingRow:
    """Map a house plan code to a panel and package (replacing any earlier mapping)."""
    code, package = (plan_code or "").strip(), (package or "").strip()
    if not code or len(code) > 60:
        raise DomainError("Choose a plan.")
    if not package or len(package) > 200:
        raise DomainError("Enter the package (or egg, plan, inventory filter) on the panel.")
    panel = _panel(central, panel_id)
    module_class(panel.module)  # refuses a panel whose module is not installed
    row = central.exec(select(PanelPlanMapping).where(PanelPlanMapping.plan_code == code)).first()
    before = None if row is None else {"panel_id": row.panel_id, "package": row.package}
    row = row or PanelPlanMapping(plan_code=code, panel_id=row_id(panel), package=package)
    row.panel_id, row.package, row.options = row_id(panel), package, json.dumps(_clean(options))
    row.updated_at = clock.now()
    central.add(row)
    record_audit(
        session=central,
        actor=actor,
        action="provisioning.mapping_set",
        target=f"plan:{code}",
        before=before,
        after={"panel_id": panel.id, "package": package},
        ip=ip,
    )
    central.commit()
    return MappingRow(code, row_id(panel), panel.label, panel.module, package, loads(row.options))


def remove_mapping(central: Session, *, plan_code: str, actor: AuthUser, ip: str = "") -> None:
    """Stop provisioning a plan on a panel (services already delivered keep their handles)."""
    row = central.exec(select(PanelPlanMapping).where(PanelPlanMapping.plan_code == plan_code)).first()
    if row is None:
        raise NotFound("This plan has no mapping.")
    central.delete(row)
    record_audit(
        session=central,
        actor=actor,
        action="provisioning.mapping_remove",
        target=f"plan:{plan_code}",
        before={"panel_id": row.panel_id, "package": row.package},
        ip=ip,
    )
    central.commit()


def current_settings(central: Session) -> ProvisioningSettings:
    """The saved provisioning settings, or the defaults (refund as account credit)."""
    saved = central.exec(select(ProvisioningSettings).order_by(col(ProvisioningSettings.id))).first()
    return saved or ProvisioningSettings(failure_refund=FailureRefund.CREDIT, updated_at=clock.now())


def set_failure_refund(central: Session, *, mode: str, actor: AuthUser, ip: str = "") -> ProvisioningSettings:
    """Choose what a final provisioning failure does with the payment: account credit or card."""
    try:
        choice = FailureRefund(mode)
    except ValueError as error:
        raise DomainError("Choose account credit or refund to card.") from error
    saved = central.exec(select(ProvisioningSettings).order_by(col(ProvisioningSettings.id))).first()
    before = None if saved is None else {"failure_refund": saved.failure_refund.value}
    saved = saved or ProvisioningSettings()
    saved.failure_refund, saved.updated_by, saved.updated_at = choice, actor.email, clock.now()
    central.add(saved)
    record_audit(
        session=central,
        actor=actor,
        action="provisioning.settings",
        before=before,
        after={"failure_refund": choice.value},
        ip=ip,
    )
    central.commit()
    return saved
