import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from starlette.testclient import TestClient

from ezscale.errors import DomainError
from ezscale.http.app import api
from ezscale.models.central import DomainType, VerificationStatus
from ezscale.services.tenancy import domains
from ezscale.services.tenancy.tenants import HostStatus, resolve_host
from ezscale.settings import get_settings
from ezscale.simulators.dns import dns_server
from tests.actors import audit_trail, owner


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", name="Acme")


@pytest.fixture
def nameserver(monkeypatch):
    records: dict[str, list[str]] = {}
    with dns_server(records) as address:
        monkeypatch.setenv("EZSCALE_DNS_NAMESERVERS", address)
        get_settings.cache_clear()
        yield records


def test_custom_domain_is_pending_until_its_txt_record_proves_ownership(acme, central, nameserver):
    row = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="Shop.Acme-Hosting.com")
    assert row.domain == "shop.acme-hosting.com"
    assert row.verification_status is VerificationStatus.PENDING
    assert resolve_host(central, "shop.acme-hosting.com").status is HostStatus.UNKNOWN
    assert not domains.tls_allowed(central, "shop.acme-hosting.com")

    failed = domains.verify_domain(
        central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="dns"
    )
    assert failed.verification_status is VerificationStatus.FAILED
    assert failed.verification_error == "No DNS record exists at _ezscale-challenge.shop.acme-hosting.com."

    nameserver["_ezscale-challenge.shop.acme-hosting.com"] = ["ezscale-verification=wrong"]
    failed = domains.verify_domain(
        central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="dns"
    )
    assert "expected 'ezscale-verification=" in failed.verification_error

    want = domains.instructions(row)
    [shown] = [d for d in domains.domain_rows(central, tenant_id=acme.id) if d.id == row.id]
    assert (shown.domain, shown.status, shown.dns_name, shown.dns_value) == (
        "shop.acme-hosting.com",
        "failed",
        want["dns_name"],
        want["dns_value"],
    )
    nameserver[want["dns_name"]] = ["some-other=record", want["dns_value"]]
    verified = domains.verify_domain(
        central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="dns"
    )
    assert verified.verification_status is VerificationStatus.VERIFIED
    assert verified.verification_error == ""
    assert resolve_host(central, "shop.acme-hosting.com").tenant.slug == "acme"
    assert domains.tls_allowed(central, "shop.acme-hosting.com")


class _TokenSite(BaseHTTPRequestHandler):
    answers: dict[str, str] = {}

    def do_GET(self):
        body = self.answers.get(self.headers["Host"])
        if self.path != domains.WELL_KNOWN_PATH or body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_http_token_verification_with_clear_reasons(acme, central, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("EZSCALE_DOMAIN_CHECK_HTTP_BASE", f"http://127.0.0.1:{server.server_address[1]}")
    get_settings.cache_clear()
    try:
        row = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="acme.example.net")
        failed = domains.verify_domain(
            central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="http"
        )
        assert failed.verification_error == (
            f"http://acme.example.net{domains.WELL_KNOWN_PATH} answered HTTP 404, "
            "expected 200 with the token."
        )
        _TokenSite.answers["acme.example.net"] = "not-the-token"
        failed = domains.verify_domain(
            central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="http"
        )
        assert "not with this domain's verification token" in failed.verification_error
        _TokenSite.answers["acme.example.net"] = row.verification_token
        ok = domains.verify_domain(
            central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="http"
        )
        assert ok.verification_status is VerificationStatus.VERIFIED
    finally:
        server.shutdown()


class _OurApp(BaseHTTPRequestHandler):
    """EZSCALE itself on a domain that already points at it: requests go to the real routes."""

    def do_GET(self):
        answer = TestClient(api).get(self.path, headers={"Host": self.headers["Host"]})
        self.send_response(answer.status_code)
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args):
        pass


def test_a_domain_pointed_at_ezscale_does_not_verify_itself_over_http(
    acme, make_tenant, central, monkeypatch
):
    """Claiming someone's domain that already points at EZSCALE must not verify: EZSCALE never
    serves the token (it used to answer it for any pending domain, to anyone who asked)."""
    mallory = make_tenant("mallory")
    row = domains.add_domain(
        central, actor=owner(mallory), tenant_id=mallory.id, domain="shop.victim-hosting.com"
    )
    client = TestClient(api)
    answer = client.get(domains.WELL_KNOWN_PATH, headers={"Host": "shop.victim-hosting.com"})
    assert answer.status_code == 404 and row.verification_token not in answer.text
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OurApp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("EZSCALE_DOMAIN_CHECK_HTTP_BASE", f"http://127.0.0.1:{server.server_address[1]}")
    get_settings.cache_clear()
    try:
        failed = domains.verify_domain(
            central, actor=owner(mallory), tenant_id=mallory.id, domain_id=row.id, method="http"
        )
    finally:
        server.shutdown()
    assert failed.verification_status is VerificationStatus.FAILED
    assert resolve_host(central, "shop.victim-hosting.com").status is HostStatus.UNKNOWN


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("127.0.0.1", "IP address"),
        ("10.0.0.8", "IP address"),
        ("0x7f.1", "IP address"),
        ("printer", "full domain name"),
        ("localhost", "reserved"),
        ("db.localhost", "reserved"),
        ("nas.local", "reserved"),
        ("metadata.google.internal", "reserved"),
        ("shop.example", "reserved"),
        ("shop.test", "reserved"),
        ("x.invalid", "reserved"),
        ("1.0.0.127.in-addr.arpa", "reserved"),
        ("[::1]", "valid domain"),
    ],
)
def test_ip_literals_and_reserved_names_are_refused(acme, central, domain, reason):
    with pytest.raises(DomainError, match=reason):
        domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain=domain)
    assert len(domains.list_domains(central, tenant_id=acme.id)) == 1


def test_caddy_ask_endpoint(acme, central):
    client = TestClient(api)
    base = get_settings().platform_domain
    assert client.get("/internal/tls/ask", params={"domain": f"acme.{base}"}).status_code == 200
    assert client.get("/internal/tls/ask", params={"domain": "unknown.example"}).status_code == 404
    assert client.get("/internal/tls/ask", params={"domain": "not a domain"}).status_code == 404
    assert client.get("/internal/tls/ask").status_code == 404


def test_domain_rules(acme, make_tenant, central):
    other = make_tenant("other")
    base = get_settings().platform_domain
    with pytest.raises(DomainError, match="reserved"):
        domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain=f"evil.{base}")
    domains.add_domain(central, actor=owner(other), tenant_id=other.id, domain="taken.example.com")
    with pytest.raises(DomainError, match="already in use"):
        domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="taken.example.com")
    row = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="acme.example.com")
    with pytest.raises(DomainError, match=r"Verify acme\.example\.com before"):
        domains.set_primary(central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id)
    with pytest.raises(DomainError, match="No such domain"):
        domains.remove_domain(central, actor=owner(other), tenant_id=other.id, domain_id=row.id)
    with pytest.raises(DomainError, match="Choose DNS or HTTP"):
        domains.verify_domain(
            central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="carrier-pigeon"
        )
    primary = next(
        d for d in domains.list_domains(central, tenant_id=acme.id) if d.type is DomainType.PRIMARY
    )
    with pytest.raises(DomainError, match="Make another domain primary"):
        domains.remove_domain(central, actor=owner(acme), tenant_id=acme.id, domain_id=primary.id)
    domains.remove_domain(central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id)
    assert [d.domain for d in domains.list_domains(central, tenant_id=acme.id)] == [f"acme.{base}"]


def test_set_primary_switches_types(acme, central, nameserver):
    row = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="primary.example.com")
    nameserver[domains.instructions(row)["dns_name"]] = [domains.instructions(row)["dns_value"]]
    domains.verify_domain(central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="dns")
    domains.set_primary(central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id)
    kinds = {d.domain: d.type for d in domains.list_domains(central, tenant_id=acme.id)}
    assert kinds["primary.example.com"] is DomainType.PRIMARY
    assert list(kinds.values()).count(DomainType.PRIMARY) == 1


def test_every_domain_change_is_audited_by_the_service_and_a_refusal_is_not(acme, central, nameserver):
    with pytest.raises(DomainError):
        domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="localhost", ip="192.0.2.7")
    assert audit_trail("domain.") == []
    row = domains.add_domain(
        central, actor=owner(acme), tenant_id=acme.id, domain="shop.acme-hosting.com", ip="192.0.2.7"
    )
    want = domains.instructions(row)
    nameserver[want["dns_name"]] = [want["dns_value"]]
    domains.verify_domain(central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id, method="dns")
    domains.set_primary(central, actor=owner(acme), tenant_id=acme.id, domain_id=row.id)
    other = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="www.acme-hosting.com")
    domains.remove_domain(central, actor=owner(acme), tenant_id=acme.id, domain_id=other.id)
    trail = audit_trail("domain.")
    assert [(a, t, after) for _, a, t, after, _ in trail] == [
        ("domain.add", "tenant:acme", {"domain": "shop.acme-hosting.com"}),
        ("domain.verify", "tenant:acme", {"domain_id": str(row.id)}),
        ("domain.primary", "tenant:acme", {"domain_id": str(row.id)}),
        ("domain.add", "tenant:acme", {"domain": "www.acme-hosting.com"}),
        ("domain.remove", "tenant:acme", {"domain_id": str(other.id)}),
    ]
    assert trail[0][0] == "owner@reseller.test" and trail[0][4] == "192.0.2.7"
