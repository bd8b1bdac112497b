"""A tenant's Kasm workspace templates, as platform admins and reseller owners edit them.

A platform admin edits the house tenant's templates, a reseller's owner their own tenant's. Every
change is checked first (DomainError, nothing written), committed, then audited. A deprecated
template leaves the order form; the workspaces already on it keep running, stopping and resuming
as before, which is also why persistence cannot change while any of them exists.
"""

import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from ezscale.errors import DomainError, NotFound
from ezscale.models.kasm import KasmTemplate, KasmWorkspace, TemplateStatus, WorkspaceStatus
from ezscale.models.types import row_id
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_change
from ezscale.services.kasm.catalogue import TYPE_SIZES, ensure_catalogue
from ezscale.services.resellers.roles import is_owner
from ezscale.services.tenancy.tenants import TenantInfo

CATEGORIES = list(dict.fromkeys(category for category, _, _ in TYPE_SIZES.values()))
ICON_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
MAX_CORES = 64
MAX_MEMORY_GB = 256
MAX_SORT_ORDER = 100_000


@dataclass(frozen=True, kw_only=True)
class TemplateForm:
    """A template as typed into a form. On update, a field left as None keeps its value."""

    name: str | None = None
    description: str | None = None
    category: str | None = None
    image_id: str | None = None  # the Kasm image's UUID, with or without hyphens
    icon: str | None = None  # a Lucide icon name; blank is "monitor"
    cores: str | None = None
    memory_gb: str | None = None  # whole GB
    apps: str | None = None
    status: str | None = None
    persistent: bool | None = None
    sort_order: str | None = None  # blank keeps the order (new templates go last)


@dataclass(frozen=True)
class TemplateRow:
    """A template as the editor shows it (memory in GB)."""

    id: int
    name: str
    description: str
    category: str
    image_id: str
    icon: str
    cores: int
    memory_gb: str
    apps: str
    status: str
    persistent: bool
    sort_order: int


def template_row(template: KasmTemplate) -> TemplateRow:
    """Format a template for the admin template list."""
    return TemplateRow(
        id=row_id(template),
        name=template.name,
        description=template.description,
        category=template.category,
        image_id=template.image_id,
        icon=template.icon,
        cores=template.cores,
        memory_gb=f"{template.memory_mb / 1024:g}",
        apps=template.apps,
        status=template.status.value,
        persistent=template.persistent,
        sort_order=template.sort_order,
    )


def list_templates(session: Session) -> list[TemplateRow]:
    """Every template of this tenant, deprecated ones too, in order-form order."""
    ensure_catalogue(session)
    query = select(KasmTemplate).order_by(col(KasmTemplate.sort_order), col(KasmTemplate.id))
    return [template_row(t) for t in session.exec(query)]


def _check_editor(actor: AuthUser, tenant: TenantInfo) -> None:
    if actor.is_admin and tenant.is_house:
        return
    if is_owner(actor, tenant.id) and not tenant.is_house:
        return
    raise DomainError("Only a platform admin or the reseller's owner can edit these workspace templates.")


def _text(value: str | None, current: str, *, label: str, limit: int) -> str:
    text = current if value is None else value.strip()
    if len(text) > limit:
        raise DomainError(f"The {label} is longer than {limit} characters.")
    return text


def _whole(text: str, *, label: str, low: int, high: int) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise DomainError(f"The {label} must be a whole number from {low} to {high:,}.")
    return int(text)


def _image_id(text: str) -> str:
    if not text.strip():
        raise DomainError("A template needs the id of its Kasm image.")
    try:
        return uuid.UUID(text.strip()).hex
    except ValueError:
        raise DomainError("The Kasm image id is the image's UUID as Kasm shows it (32 hex digits).") from None


def _status(text: str) -> TemplateStatus:
    try:
        return TemplateStatus(text.strip().lower())
    except ValueError:
        raise DomainError(f"Unknown status “{text}”; use one of {', '.join(TemplateStatus)}.") from None


def _values(session: Session, form: TemplateForm, template: KasmTemplate) -> dict[str, Any]:
    """The template's new column values from the form, all checked before anything is set."""
    name = _text(form.name, template.name, label="name", limit=120)
    if not name:
        raise DomainError("A template needs a name.")
    same_name = func.lower(KasmTemplate.name) == name.lower()
    if session.exec(select(KasmTemplate.id).where(same_name, KasmTemplate.id != template.id)).first():
        raise DomainError(f"A template named “{name}” already exists.")
    category = template.category if form.category is None else form.category.strip().lower()
    if category not in CATEGORIES:
        raise DomainError(f"Unknown category “{category}”; use one of {', '.join(CATEGORIES)}.")
    icon = _text(form.icon, template.icon, label="icon", limit=60) or "monitor"
    if not ICON_RE.match(icon):
        raise DomainError("The icon is a Lucide icon name in lowercase, e.g. monitor, code or globe.")
    values: dict[str, object] = {
        "name": name,
        "description": _text(form.description, template.description, label="description", limit=500),
        "category": category,
        "image_id": template.image_id if form.image_id is None else _image_id(form.image_id),
        "icon": icon,
        "cores": template.cores
        if form.cores is None
        else _whole(form.cores, label="number of vCPUs", low=1, high=MAX_CORES),
        "memory_mb": template.memory_mb
        if form.memory_gb is None
        else 1024 * _whole(form.memory_gb, label="memory in GB", low=1, high=MAX_MEMORY_GB),
        "apps": _text(form.apps, template.apps, label="list of apps", limit=500),
        "status": template.status if form.status is None else _status(form.status),
        "persistent": template.persistent if form.persistent is None else form.persistent,
        "sort_order": template.sort_order
        if not (form.sort_order or "").strip()
        else _whole(form.sort_order or "", label="sort order", low=0, high=MAX_SORT_ORDER),
    }
    if values["persistent"] != template.persistent and template.id and _in_use(session, template.id):
        raise DomainError(
            f"{template.name}: workspaces use this template, so it cannot switch between persistent "
            "and ephemeral. Deprecate it and create a new template instead."
        )
    return values


def _in_use(session: Session, template_id: int) -> bool:
    """True while a workspace that is not terminated runs on, or may resume from, the template."""
    query = select(KasmWorkspace.id).where(
        KasmWorkspace.template_id == template_id, KasmWorkspace.status != WorkspaceStatus.TERMINATED
    )
    return session.exec(query).first() is not None


def _commit(session: Session, template: KasmTemplate) -> None:
    session.add(template)
    try:
        session.commit()
    except IntegrityError:  # a template of this name was added meanwhile
        session.rollback()
        raise DomainError(f"A template named “{template.name}” already exists.") from None
    session.refresh(template)


def _audit(
    actor: AuthUser, action: str, tenant: TenantInfo, before: TemplateRow | None, after: TemplateRow, ip: str
) -> None:
    target = f"tenant:{tenant.slug}/kasm-template:{after.id}"
    record_change(actor=actor, action=action, target=target, before=before, after=after, ip=ip)


def create_template(
    session: Session, *, actor: AuthUser, tenant: TenantInfo, form: TemplateForm, ip: str = ""
) -> KasmTemplate:
    """A new template of the tenant's catalogue; name and image id are required."""
    _check_editor(actor, tenant)
    missing: dict[str, Any] = {f: "" for f in ("name", "image_id") if getattr(form, f) is None}
    form = replace(form, **missing)
    last = session.exec(select(func.max(KasmTemplate.sort_order))).one()
    blank = KasmTemplate(name="", image_id="", sort_order=0 if last is None else last + 1)
    template = KasmTemplate(**_values(session, form, blank))
    _commit(session, template)
    _audit(actor, "kasm_template.create", tenant, None, template_row(template), ip)
    return template


def update_template(
    session: Session,
    *,
    actor: AuthUser,
    tenant: TenantInfo,
    template_id: int,
    form: TemplateForm,
    ip: str = "",
) -> KasmTemplate:
    """Change a template; deprecating it takes it off the order form, nothing more."""
    _check_editor(actor, tenant)
    template = session.get(KasmTemplate, template_id)
    if template is None:
        raise NotFound("No such workspace template.")
    before = template_row(template)
    for field, value in _values(session, form, template).items():
        setattr(template, field, value)
    _commit(session, template)
    after = template_row(template)
    if after != before:
        _audit(actor, "kasm_template.update", tenant, before, after, ip)
    return template
