"""Where a custom domain must point, and a TLS status that is real: `requested` when Caddy's ask is
approved, then `active` or `failed` (with the reason) from a check that does the HTTPS handshake
against a loopback server holding a certificate from a test CA."""

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ezscale.models.central import SslStatus, TenantDomain, VerificationStatus
from ezscale.services.tenancy import domains
from ezscale.settings import get_settings
from tests.actors import owner

DOMAIN = "shop.acme-hosting.com"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _cert(
    subject: str, issuer: x509.Name, key, signer, *, ca: bool, san: str | None = None
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A test CA, and certificates it signed for the domain and for another name."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Test CA", _name("Test CA"), ca_key, ca_key, ca=True)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for label, san in (("good", DOMAIN), ("wrong", "other.example")):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(san, ca.subject, key, ca_key, ca=False, san=san)
        (folder / f"{label}.pem").write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return {"ca": folder / "ca.pem", "good": folder / "good.pem", "wrong": folder / "wrong.pem"}


@contextmanager
def tls_server(cert: Path) -> Iterator[str]:
    """A loopback server that completes TLS handshakes with `cert`; yields host:port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


@pytest.fixture
def verified(make_tenant, central, setting, pki) -> TenantDomain:
    acme = make_tenant("acme")
    row = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain=DOMAIN)
    row.verification_status = VerificationStatus.VERIFIED  # proven (the proofs have their own tests)
    central.add(row)
    central.commit()
    setting("EZSCALE_TLS_CHECK_CA_FILE", str(pki["ca"]))
    return row


def test_the_owner_is_told_what_record_routes_the_domain(make_tenant, central, setting):
    acme = make_tenant("acme")
    sub = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain=DOMAIN)
    apex = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="acme-hosting.com")
    edge = f"edge.{get_settings().platform_domain}"
    assert (domains.instructions(sub)["route_type"], domains.instructions(sub)["route_value"]) == (
        "CNAME",
        edge,
    )
    assert domains.instructions(apex)["route_type"] == "CNAME"  # no edge addresses configured
    setting("EZSCALE_EDGE_IPV4", "203.0.113.10")
    setting("EZSCALE_EDGE_IPV6", "2001:db8::10")
    apex_route = domains.instructions(apex)
    assert (apex_route["route_type"], apex_route["route_value"]) == (
        "A / AAAA",
        "203.0.113.10 and 2001:db8::10",
    )
    assert domains.instructions(sub)["route_type"] == "CNAME"


def test_tls_status_follows_the_ask_and_the_served_certificate(verified, central, setting, pki):
    assert verified.ssl_status is SslStatus.PENDING
    assert domains.tls_allowed(central, DOMAIN)
    central.refresh(verified)
    assert verified.ssl_status is SslStatus.REQUESTED

    with tls_server(pki["wrong"]) as address:
        setting("EZSCALE_TLS_CHECK_ADDRESS", address)
        assert domains.check_certificates(central) == {DOMAIN: "failed"}
    central.refresh(verified)
    assert "not valid" in verified.ssl_error and verified.ssl_checked_at is not None

    with tls_server(pki["good"]) as address:
        setting("EZSCALE_TLS_CHECK_ADDRESS", address)
        assert domains.check_certificates(central) == {DOMAIN: "active"}
    central.refresh(verified)
    assert (verified.ssl_status, verified.ssl_error) == (SslStatus.ACTIVE, "")


def test_nothing_listening_is_a_clear_failure(verified, central, setting):
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    setting("EZSCALE_TLS_CHECK_ADDRESS", f"127.0.0.1:{port}")
    assert domains.check_certificates(central) == {DOMAIN: "failed"}
    central.refresh(verified)
    assert verified.ssl_error == f"Could not connect to {DOMAIN} on port {port}."


def test_an_unverified_domain_is_neither_approved_nor_checked(make_tenant, central):
    acme = make_tenant("acme")
    row = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain=DOMAIN)
    assert not domains.tls_allowed(central, DOMAIN)
    assert domains.check_certificates(central) == {}
    central.refresh(row)
    assert row.ssl_status is SslStatus.PENDING
