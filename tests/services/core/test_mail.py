"""The mail service: branded outbox per tenant, platform outbox, SMTP delivery to a local server."""

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.auth import MailStatus, TenantMail
from ezscale.models.central import Tenant
from ezscale.services.core import mail
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings


def test_tenant_mail_lands_in_that_tenants_outbox_with_its_branding(make_tenant, clock):
    acme = TenantInfo.of(make_tenant("acme", name="Acme Hosting", primary_color="#E11D48"))
    other = TenantInfo.of(make_tenant("other"))
    mail_id = mail.send_mail(
        tenant=acme, to="ann@example.com", subject="Hi", text="Open https://acme.test/x?t=1 now", kind="test"
    )
    [sent] = mail.list_outbox(tenant=acme)
    assert sent.id == mail_id and sent.to == "ann@example.com" and sent.kind == "test"
    assert sent.sender == "Acme Hosting <noreply@acme.localhost>"
    assert sent.links == ("https://acme.test/x?t=1",)
    assert "#E11D48" in sent.html and '<a href="https://acme.test/x?t=1">' in sent.html
    assert sent.status == "outbox" and sent.created_at == clock.now()
    assert mail.list_outbox(tenant=other) == []
    assert mail.list_outbox(tenant=None) == []


def test_platform_mail_goes_to_the_central_outbox(platform, clock):
    mail.send_mail(tenant=None, to="ops@example.com", subject="Alert", text="Disk full")
    [sent] = mail.list_outbox(tenant=None, to="ops@example.com")
    assert sent.subject == "Alert" and "EZSCALE" in sent.sender


def test_the_platform_host_outbox_also_shows_platform_mail_such_as_a_reseller_invitation(
    make_tenant, central, clock
):
    from ezscale.services.resellers.lifecycle import create_reseller

    house = TenantInfo.of(make_tenant("house", primary_domain="house.test", is_house=True))
    create_reseller(central, name="Acme", slug="acme", owner_email="owner@acme.example")
    acme = TenantInfo.of(central.exec(select(Tenant).where(Tenant.slug == "acme")).one())
    clock.advance(timedelta(seconds=1))
    mail.send_mail(tenant=house, to="ann@example.com", subject="Welcome", text="Hi")
    shown = [(m.to, m.kind) for m in mail.host_outbox(house)]
    assert shown == [("ann@example.com", ""), ("owner@acme.example", "invitation")]
    assert mail.host_outbox(acme) == []  # a reseller's host never shows the platform's mail


def test_a_bad_address_is_refused(make_tenant):
    acme = TenantInfo.of(make_tenant("acme"))
    with pytest.raises(DomainError, match="not a valid email"):
        mail.send_mail(tenant=acme, to="nobody", subject="x", text="y")
    assert mail.list_outbox(tenant=acme) == []


class _Sink:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    yield sink
    controller.stop()
    get_settings.cache_clear()


def test_queued_mail_is_delivered_by_smtp_once(make_tenant, clock, smtp_server, monkeypatch):
    acme = TenantInfo.of(make_tenant("acme", name="Acme Hosting"))
    queued: list[int] = []
    monkeypatch.setattr("ezscale.tasks.mail.enqueue_delivery", lambda tenant, mail_id: queued.append(mail_id))
    mail_id = mail.send_mail(tenant=acme, to="bob@example.com", subject="Welcome", text="Hello Bob")
    assert queued == [mail_id]
    with tenant_session(acme) as session:
        assert session.get(TenantMail, mail_id).status is MailStatus.QUEUED
        assert mail.deliver(session, mail_id=mail_id) is True
        assert mail.deliver(session, mail_id=mail_id) is False  # already sent: not sent twice
        row = session.get(TenantMail, mail_id)
        assert row.status is MailStatus.SENT and row.sent_at == clock.now()
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["bob@example.com"]
    assert envelope.mail_from == "noreply@acme.localhost"
    body = envelope.content.decode()
    assert "Subject: Welcome" in body and "Hello Bob" in body and "text/html" in body
