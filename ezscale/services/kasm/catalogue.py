"""Kasm catalogue of a tenant: workspace templates (Kasm images) and the six workspace types.

The types are the tenant's hourly `Plan` rows (codes `kasm-*`), priced in the plan editor
(`plan_catalogue.update_plan`); a running session keeps the rate it started with.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.kasm import KasmTemplate, KasmType, TemplateStatus
from ezscale.models.tenant import CreditEntry, CreditKind, Plan, ServiceType, User
from ezscale.models.types import row_id


def image_id_for(name: str) -> str:
    """Deterministic image id of a named image (the simulator uses the same ids)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, name).hex


TYPE_SIZES = {
    "kasm-dev-basic": ("developer", 2, 4096),
    "kasm-dev-pro": ("developer", 4, 8192),
    "kasm-dev-enterprise": ("developer", 8, 16384),
    "kasm-biz-basic": ("business", 2, 4096),
    "kasm-biz-pro": ("business", 4, 8192),
    "kasm-biz-enterprise": ("business", 8, 16384),
}

DEFAULT_TEMPLATES = (
    (
        "Ubuntu + VS Code",
        "developer",
        "kasmweb/vs-code:1.16.0",
        "code",
        "VS Code, Git, Python, Node.js",
        False,
    ),
    (
        "Ubuntu Desktop",
        "developer",
        "kasmweb/ubuntu-jammy-desktop:1.16.0",
        "monitor",
        "Terminal, Firefox",
        True,
    ),
    (
        "Business Desktop",
        "business",
        "kasmweb/only-office:1.16.0",
        "briefcase",
        "OnlyOffice, Thunderbird",
        True,
    ),
    ("Secure Browser", "business", "kasmweb/chrome:1.16.0", "globe", "Chrome", False),
)


def seed_catalogue(db: Session) -> None:
    """Add the default templates and type sizes a tenant lacks (idempotent)."""
    names = set(db.exec(select(KasmTemplate.name)).all())
    for order, (name, category, image, icon, apps, persistent) in enumerate(DEFAULT_TEMPLATES):
        if name not in names:
            db.add(
                KasmTemplate(
                    name=name,
                    description=f"{name} in your browser.",
                    category=category,
                    image_id=image_id_for(image),
                    icon=icon,
                    apps=apps,
                    persistent=persistent,
                    sort_order=order,
                )
            )
    size_types(db)


def size_types(db: Session) -> None:
    """Give every workspace plan without a size the size of the house type it is (or resells)."""
    sized = set(db.exec(select(KasmType.plan_id)).all())
    for plan in db.exec(select(Plan).where(Plan.service_type == ServiceType.KASM)):
        base = plan.base_code or plan.code
        if plan.id not in sized and base in TYPE_SIZES:
            category, cores, memory = TYPE_SIZES[base]
            db.add(KasmType(plan_id=row_id(plan), category=category, cores=cores, memory_mb=memory))
    db.commit()


def ensure_catalogue(db: Session) -> None:
    """Seed a tenant that has no templates yet (tenants created after this domain shipped get the
    defaults on first use); once it has any, active or deprecated, they are its own to edit."""
    if db.exec(select(KasmTemplate.id)).first() is None:
        seed_catalogue(db)


def seed_demo_workspaces(db: Session, *, customer_email: str) -> None:
    """Demo: the catalogue, and $25 of credit for the demo customer (once)."""
    seed_catalogue(db)
    user = db.exec(select(User).where(User.email == customer_email)).first()
    reference = "demo:kasm-credit"
    if user and db.exec(select(CreditEntry.id).where(CreditEntry.reference == reference)).first() is None:
        db.add(
            CreditEntry(
                user_id=row_id(user),
                kind=CreditKind.TOP_UP,
                amount_minor=2500,
                currency=db.exec(select(Plan.currency)).first() or "USD",
                memo="Demo credit",
                reference=reference,
                created_at=clock.now(),
            )
        )
        db.commit()


@dataclass(frozen=True, slots=True)
class TypeOption:
    """A workspace type the customer can order, with its hourly price."""

    plan_id: int
    name: str
    description: str
    rate: Decimal
    currency: str


def workspace_types(db: Session) -> list[TypeOption]:
    """The active hourly Kasm plans as orderable workspace types."""
    plans = db.exec(
        select(Plan)
        .where(
            col(Plan.service_type) == ServiceType.KASM, col(Plan.active), col(Plan.hourly_rate).is_not(None)
        )
        .order_by(col(Plan.sort_order))
    )
    return [
        TypeOption(row_id(p), p.name, p.description, p.hourly_rate or Decimal(0), p.currency) for p in plans
    ]


def templates(db: Session) -> list[KasmTemplate]:
    """The active templates, for the order form (deprecated ones stay for the workspaces on them)."""
    return list(
        db.exec(
            select(KasmTemplate)
            .where(col(KasmTemplate.status) == TemplateStatus.ACTIVE)
            .order_by(col(KasmTemplate.sort_order), col(KasmTemplate.id))
        )
    )
