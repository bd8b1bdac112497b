"""The one mail service: every message is recorded in an outbox, branded, and sent by SMTP.

A tenant's mail goes to its own database, platform mail (no tenant) to the central one. With
SMTP_URL set, a Celery task delivers it after the commit; without, the outbox is the delivery
and the demo shows it at /dev/outbox.
"""

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from html import escape
from urllib.parse import unquote, urlsplit

from sqlalchemy import insert
from sqlmodel import Session, col, select, update

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.auth import MailBase, MailStatus, PlatformMail, TenantMail
from ezscale.models.central import DomainType, TenantBranding, TenantDomain, VerificationStatus
from ezscale.models.types import row_id, table_of
from ezscale.services.tenancy.tenants import TenantInfo, site_url, tenant_session
from ezscale.settings import get_settings

URL_RE = re.compile(r"https?://[^\s<>\"']+")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a mail is from: the tenant's name, address and logo."""

    name: str
    address: str
    company: str
    primary_color: str
    logo_url: str | None


@dataclass(frozen=True, slots=True)
class OutboxMail:
    """A queued mail as the outbox page lists it."""

    id: int
    to: str
    sender: str
    subject: str
    text: str
    html: str | None
    kind: str
    status: str
    created_at: datetime
    links: tuple[str, ...]


def sender_for(tenant: TenantInfo | None) -> Sender:
    """The tenant's branded sender (from-name, from-address, logo, colour); else the platform's."""
    settings = get_settings()
    platform = Sender(
        settings.platform_name, f"noreply@{settings.platform_domain}", settings.platform_name, "#2563EB", None
    )
    if tenant is None:
        return platform
    with central_session() as session:
        brand = session.exec(select(TenantBranding).where(TenantBranding.tenant_id == tenant.id)).first()
    if brand is None:
        return Sender(tenant.name, platform.address, tenant.name, platform.primary_color, None)
    return Sender(
        name=brand.from_name or brand.company_name,
        address=brand.from_email or platform.address,
        company=brand.company_name,
        primary_color=brand.primary_color,
        logo_url=brand.logo_url,
    )


def tenant_base_url(tenant: TenantInfo) -> str:
    """The base of every link mailed for a tenant: its verified primary domain (else its first
    verified alias) with the configured scheme and port — never a request's Host or Origin,
    which an attacker chooses."""
    with central_session() as session:
        domains = session.exec(
            select(col(TenantDomain.domain), col(TenantDomain.type))
            .where(
                col(TenantDomain.tenant_id) == tenant.id,
                col(TenantDomain.verification_status) == VerificationStatus.VERIFIED,
            )
            .order_by(col(TenantDomain.id))
        ).all()
    if not domains:
        raise DomainError("This site has no verified domain to link to.")
    primary = [d for d, kind in domains if kind == DomainType.PRIMARY]
    return site_url((primary or [domains[0][0]])[0])


def _linkify(text: str) -> str:
    parts, last = [], 0
    for match in URL_RE.finditer(text):
        parts.append(escape(text[last : match.start()]))
        url = escape(match.group(0))
        parts.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    parts.append(escape(text[last:]))
    return "".join(parts).replace("\n", "<br>\n")


def branded_html(sender: Sender, body_html: str) -> str:
    """Wrap a mail body in the sender's branded HTML layout (logo header)."""
    logo = (
        f'<img src="{escape(sender.logo_url)}" alt="{escape(sender.company)}" height="32">'
        if sender.logo_url
        else f'<strong style="font-size:20px;color:#fff">{escape(sender.company)}</strong>'
    )
    return (
        '<!doctype html><html><body style="margin:0;font-family:Arial,sans-serif;background:#f4f5f7">'
        f'<div style="background:{sender.primary_color};padding:16px 24px">{logo}</div>'
        f'<div style="background:#fff;padding:24px;line-height:1.5">{body_html}</div>'
        f'<div style="padding:12px 24px;color:#666;font-size:12px">{escape(sender.company)}</div>'
        "</body></html>"
    )


def send_mail(
    *,
    tenant: TenantInfo | None,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    kind: str = "",
) -> int:
    """Record a branded message in the outbox and queue its SMTP delivery; returns its id."""
    to = (to or "").strip()
    if not EMAIL_RE.match(to):
        raise DomainError(f"“{to}” is not a valid email address.")
    sender = sender_for(tenant)
    status = MailStatus.QUEUED if get_settings().smtp_url else MailStatus.OUTBOX
    model = PlatformMail if tenant is None else TenantMail
    mail = model(
        to_address=to,
        from_address=sender.address,
        from_name=sender.name,
        subject=subject[:200],
        text=text,
        html=branded_html(sender, html if html is not None else _linkify(text)),
        kind=kind[:40],
        status=status,
        created_at=clock.now(),
    )
    with central_session() if tenant is None else tenant_session(tenant) as session:
        mail_id = _store(session, mail)
    if status is MailStatus.QUEUED:
        from ezscale.tasks.mail import enqueue_delivery

        enqueue_delivery(tenant, mail_id)
    return mail_id


@dataclass(frozen=True)
class PendingMail:
    """A tenant message to write to the outbox inside a business transaction."""

    to: str
    subject: str
    text: str
    kind: str


def write_pending(session: Session, messages: list[PendingMail]) -> None:
    """Add tenant messages to the outbox in the caller's transaction (one multi-row insert), so they
    exist exactly when what they announce does; `dispatch_pending` brands and queues them after the
    commit."""
    if not messages:
        return
    now = clock.now()
    session.execute(
        insert(table_of(TenantMail)),
        [
            {
                "to_address": (m.to or "").strip()[:254],
                "from_address": "",
                "from_name": "",
                "subject": m.subject[:200],
                "text": m.text,
                "html": None,
                "kind": m.kind[:40],
                "status": MailStatus.PENDING,
                "attempts": 0,
                "error": "",
                "created_at": now,
                "sent_at": None,
            }
            for m in messages
        ],
    )


def dispatch_pending(tenant: TenantInfo) -> int:
    """Brand and queue the tenant's pending messages, each once (claimed by a conditional UPDATE,
    so concurrent or repeated dispatches never take one twice); returns how many went out. Safe
    to call at any time: a run killed after its commit leaves them for the next call."""
    sender = sender_for(tenant)
    status = MailStatus.QUEUED if get_settings().smtp_url else MailStatus.OUTBOX
    queued: list[int] = []
    with tenant_session(tenant) as session:
        pending = session.exec(
            select(TenantMail)
            .where(col(TenantMail.status) == MailStatus.PENDING)
            .order_by(col(TenantMail.id))
        ).all()
        for mail in pending:
            valid = EMAIL_RE.match(mail.to_address) is not None
            claim = (
                update(TenantMail)
                .where(col(TenantMail.id) == mail.id, col(TenantMail.status) == MailStatus.PENDING)
                .values(
                    from_address=sender.address,
                    from_name=sender.name,
                    html=branded_html(sender, _linkify(mail.text)),
                    status=status if valid else MailStatus.FAILED,
                    error="" if valid else "not a valid email address",
                )
                .execution_options(synchronize_session=False)
            )
            if session.exec(claim).rowcount == 1 and valid:
                queued.append(row_id(mail))
            session.commit()
    if status is MailStatus.QUEUED:
        from ezscale.tasks.mail import enqueue_delivery

        for mail_id in queued:
            enqueue_delivery(tenant, mail_id)
    return len(queued)


def _store(session: Session, mail: MailBase) -> int:
    session.add(mail)
    session.commit()
    return row_id(mail)


def list_outbox(*, tenant: TenantInfo | None, to: str | None = None, limit: int = 50) -> list[OutboxMail]:
    """Newest first: the tenant's outbox (or the platform's), optionally for one recipient."""
    model = PlatformMail if tenant is None else TenantMail
    query = select(model).order_by(col(model.id).desc()).limit(limit)
    if to:
        query = query.where(model.to_address == to.strip())
    opener = central_session() if tenant is None else tenant_session(tenant)
    with opener as session:
        rows = session.exec(query).all()
    return [
        OutboxMail(
            id=row_id(r),
            to=r.to_address,
            sender=formataddr((r.from_name, r.from_address)),
            subject=r.subject,
            text=r.text,
            html=r.html,
            kind=r.kind,
            status=r.status.value,
            created_at=r.created_at,
            links=tuple(URL_RE.findall(r.text)),
        )
        for r in rows
    ]


def host_outbox(tenant: TenantInfo, *, limit: int = 50) -> list[OutboxMail]:
    """What a host's demo outbox shows, newest first: its tenant's mail and, on the platform's own
    (house) host, the platform's mail too — invitations to new resellers' owners, wholesale notices."""
    mails = list_outbox(tenant=tenant, limit=limit)
    if tenant.is_house:
        mails += list_outbox(tenant=None, limit=limit)
    return sorted(mails, key=lambda m: m.created_at, reverse=True)[:limit]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A mail as the demo outbox page shows it: text, its links and when it was queued."""

    id: int
    to_address: str  # not `to`: a page's row Var has a `.to()` of its own
    sender: str
    subject: str
    text: str
    links: list[str]
    at: str
    status: str


def outbox_rows(tenant: TenantInfo) -> list[OutboxRow]:
    """`host_outbox` as the outbox page shows it."""
    return [
        OutboxRow(
            m.id,
            m.to,
            m.sender,
            m.subject,
            m.text,
            list(m.links),
            f"{m.created_at:%Y-%m-%d %H:%M:%S}",
            m.status,
        )
        for m in host_outbox(tenant)
    ]


def build_message(mail: MailBase) -> EmailMessage:
    """The mail as an email message ready for SMTP."""
    message = EmailMessage()
    message["From"] = formataddr((mail.from_name, mail.from_address))
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain=mail.from_address.rsplit("@", 1)[-1])
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message


def smtp_send(message: EmailMessage, url: str, *, timeout: float = 20) -> None:
    """Send over `smtp://[user:pass@]host[:port]` (STARTTLS when offered) or `smtps://` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise DomainError("SMTP_URL must start with smtp:// or smtps://")
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout)
    else:
        client = smtplib.SMTP(host, parts.port or 587, timeout=timeout)
    with client:
        if parts.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def deliver(session: Session, *, mail_id: int, platform: bool = False) -> bool:
    """Send one queued message; safe to run twice (a sent message is not sent again)."""
    url = get_settings().smtp_url
    model = PlatformMail if platform else TenantMail
    mail = session.get(model, mail_id, with_for_update=True)
    if mail is None or mail.status in (MailStatus.SENT, MailStatus.OUTBOX, MailStatus.PENDING) or not url:
        return False
    mail.attempts += 1
    try:
        smtp_send(build_message(mail), url)
    except (OSError, smtplib.SMTPException) as error:
        mail.error = str(error)[:300]
        mail.status = MailStatus.FAILED if mail.attempts >= MAX_ATTEMPTS else MailStatus.QUEUED
        session.add(mail)
        session.commit()
        if mail.status is MailStatus.QUEUED:
            raise
        return False
    mail.status, mail.sent_at, mail.error = MailStatus.SENT, clock.now(), ""
    session.add(mail)
    session.commit()
    return True
