"""The admin Overview: the platform's health at a glance, from the analytics snapshots (MRR) and a
live read of every tenant (open invoices, failed payments, failed provisioning) and of the alerts
sent to the admins."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from ezscale.models.auth import PlatformMail
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.kasm import KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import Invoice, InvoiceKind, InvoiceStatus, Service, ServiceStatus
from ezscale.money import Money
from ezscale.services.analytics.dashboard import load_dashboard, scopes
from ezscale.services.analytics.snapshots import reporting_tenants
from ezscale.services.analytics.view import money
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.settings import get_settings

WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Figure:
    """One card of the admin Overview: a headline figure with a hint and a colour."""

    id: str
    label: str
    value: str
    hint: str
    tone: str  # "ok" | "warn" | "bad": how the card is coloured


def _amounts(totals: dict[str, int]) -> str:
    return " + ".join(Money(minor, cur).format() for cur, minor in sorted(totals.items())) or "$0.00"


def _mrr(central: Session) -> list[Figure]:
    figures = []
    for scope in (s for s in scopes(central) if s.key.startswith("platform")):
        board = load_dashboard(central, scope_key=scope.key, months=1)
        last = board.months[-1] if board.months else None
        figures.append(
            Figure(
                f"mrr-{scope.currency.lower()}",
                f"MRR ({scope.currency})",
                money(last.mrr, scope.currency).format() if last else "–",
                f"as of {board.last_day:%Y-%m-%d}" if board.last_day else "analytics not computed yet",
                "ok" if last else "warn",
            )
        )
    return figures


def _alerts(subjects: list[str]) -> Figure:
    """Alerts are counted from the alert e-mails (the Discord channel keeps no record here)."""
    if not get_settings().alert_email:
        return Figure("alerts", "Alerts (7 days)", "–", "no alert e-mail set (ALERT_EMAIL)", "warn")
    latest = subjects[0].removeprefix("[EZSCALE alert] ") if subjects else "none: all quiet"
    return Figure("alerts", "Alerts (7 days)", str(len(subjects)), latest, "bad" if subjects else "ok")


def platform_health(central: Session, *, now: datetime) -> list[Figure]:
    """The platform's health over the last WINDOW for the admin Overview: MRR today, open
    invoices, failed payments, failed provisioning and open alerts, across every tenant."""
    since = now - WINDOW
    open_count, failed_payments, failed_services, failed_workspaces = 0, 0, 0, 0
    open_totals: defaultdict[str, int] = defaultdict(int)
    for tenant in reporting_tenants(central):
        with tenant_session(tenant) as db:
            for currency, count, total in db.exec(
                select(Invoice.currency, func.count(), func.coalesce(func.sum(Invoice.total_minor), 0))
                .where(Invoice.kind == InvoiceKind.INVOICE, Invoice.status == InvoiceStatus.OPEN)
                .group_by(Invoice.currency)
            ):
                open_count += count
                open_totals[currency] += int(total)
            failed_payments += db.exec(
                select(func.count())
                .select_from(Payment)
                .where(Payment.status == PaymentStatus.FAILED, Payment.created_at >= since)
            ).one()
            failed_services += db.exec(
                select(func.count()).select_from(Service).where(Service.status == ServiceStatus.FAILED)
            ).one()
            failed_workspaces += db.exec(
                select(func.count())
                .select_from(KasmWorkspace)
                .where(KasmWorkspace.status == WorkspaceStatus.FAILED)
            ).one()
    alerts = central.exec(
        select(PlatformMail.subject)
        .where(PlatformMail.kind == "alert", PlatformMail.created_at >= since)
        .order_by(col(PlatformMail.id).desc())
    ).all()
    distinct_alerts = list(dict.fromkeys(alerts))
    failures = failed_services + failed_workspaces
    return [
        *_mrr(central),
        Figure(
            "open-invoices",
            "Open invoices",
            str(open_count),
            f"{_amounts(open_totals)} awaiting payment",
            "ok" if open_count == 0 else "warn",
        ),
        Figure(
            "failed-payments",
            "Failed payments (7 days)",
            str(failed_payments),
            "card charges declined or errored",
            "ok" if failed_payments == 0 else "bad",
        ),
        Figure(
            "provisioning-failures",
            "Provisioning failures",
            str(failures),
            f"{failed_services} services, {failed_workspaces} workspaces failed",
            "ok" if failures == 0 else "bad",
        ),
        _alerts(distinct_alerts),
    ]
