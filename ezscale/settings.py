"""One validated settings object, read from the environment (prefix-free names as documented)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    data_dir: Path = Field(default=Path("data"), alias="EZSCALE_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    # Without Redis on SQLite, writers tell the web backend of workspace changes by datagrams on
    # this Unix socket (unset: <data dir>/kasm-live.sock; at most 107 bytes as a path).
    live_socket: Path | None = Field(default=None, alias="EZSCALE_LIVE_SOCKET")
    tenant_db_prefix: str = Field(default="ezscale_tenant_", alias="EZSCALE_TENANT_DB_PREFIX")
    # New tenant databases are copies of a template at the head revision (migrations.py).
    # Unset: files in <data dir>/templates (SQLite), databases named <tenant prefix>_template_*.
    template_dir: Path | None = Field(default=None, alias="EZSCALE_TEMPLATE_DIR")
    template_db_prefix: str | None = Field(default=None, alias="EZSCALE_TEMPLATE_DB_PREFIX")
    platform_domain: str = Field(default="localhost", alias="EZSCALE_PLATFORM_DOMAIN")
    platform_name: str = Field(default="EZSCALE", alias="EZSCALE_PLATFORM_NAME")
    port: int = Field(default=3000, alias="EZSCALE_PORT")
    default_currency: str = Field(default="USD", alias="EZSCALE_CURRENCY")
    # The ECB daily reference rates feed (the demo and tests point it at `simulators/ecb.py`).
    ecb_rates_url: str = Field(
        default="https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml", alias="EZSCALE_ECB_RATES_URL"
    )
    # Custom-domain checks: DNS servers as host[:port], comma-separated (unset: the system's), and
    # an optional base URL the HTTP check connects to instead of the domain itself (like curl's
    # --resolve; the Host header is still the domain).
    wholesale_workers: int = Field(default=4, ge=1, le=32, alias="EZSCALE_WHOLESALE_WORKERS")
    # invoices charged at once by a billing run (capped to the tenant database's connection pool)
    charge_workers: int = Field(default=8, ge=1, le=64, alias="EZSCALE_CHARGE_WORKERS")
    # Collecting wholesale invoices: days to pay, the reminder that many days before the due date,
    # card retries that many days after it (comma-separated), and the grace after the due date
    # before the storefront is suspended.
    wholesale_due_days: int = Field(default=7, ge=0, le=60, alias="EZSCALE_WHOLESALE_DUE_DAYS")
    wholesale_reminder_days: int = Field(default=3, ge=1, le=30, alias="EZSCALE_WHOLESALE_REMINDER_DAYS")
    wholesale_retry_days: str = Field(default="2,4,6", alias="EZSCALE_WHOLESALE_RETRY_DAYS")
    wholesale_grace_days: int = Field(default=10, ge=1, le=90, alias="EZSCALE_WHOLESALE_GRACE_DAYS")
    dns_nameservers: str | None = Field(default=None, alias="EZSCALE_DNS_NAMESERVERS")
    domain_check_http_base: str | None = Field(default=None, alias="EZSCALE_DOMAIN_CHECK_HTTP_BASE")
    # Where customers' custom domains point: a CNAME to EZSCALE_EDGE_HOST (unset: edge.<platform
    # domain>), or at the apex A/AAAA records to its addresses. The TLS check connects to
    # EZSCALE_TLS_CHECK_ADDRESS (host:port; unset: the domain on 443) and trusts
    # EZSCALE_TLS_CHECK_CA_FILE (unset: the system's CAs).
    edge_host: str | None = Field(default=None, alias="EZSCALE_EDGE_HOST")
    edge_ipv4: str | None = Field(default=None, alias="EZSCALE_EDGE_IPV4")
    edge_ipv6: str | None = Field(default=None, alias="EZSCALE_EDGE_IPV6")
    tls_check_address: str | None = Field(default=None, alias="EZSCALE_TLS_CHECK_ADDRESS")
    tls_check_ca_file: Path | None = Field(default=None, alias="EZSCALE_TLS_CHECK_CA_FILE")
    # Comma-separated Fernet keys, newest first (rotation). Unset: a key file in the data dir.
    encryption_keys: str | None = Field(default=None, alias="EZSCALE_ENCRYPTION_KEYS")
    # Accounts and security. SMTP_URL: smtp://user:pass@host:587 (STARTTLS) or smtps://host:465;
    # unset, mail stays in the outbox. EZSCALE_DEMO (set by `ezscale run`) turns on the demo
    # conveniences: /dev/outbox (EZSCALE_DEV_OUTBOX), cookies without Secure (plain http) and the
    # published Stripe webhook secret (refused anywhere else).
    demo: bool = Field(default=False, alias="EZSCALE_DEMO")
    smtp_url: str | None = Field(default=None, alias="SMTP_URL")
    dev_outbox: bool | None = Field(default=None, alias="EZSCALE_DEV_OUTBOX")  # unset: demo only
    session_hours: int = Field(default=24 * 14, alias="EZSCALE_SESSION_HOURS")
    secure_cookies: bool | None = Field(default=None, alias="EZSCALE_SECURE_COOKIES")  # unset: not demo
    login_max_failures_per_account: int = Field(default=5, alias="EZSCALE_LOGIN_MAX_FAILURES")
    login_max_failures_per_ip: int = Field(default=20, alias="EZSCALE_LOGIN_MAX_FAILURES_PER_IP")
    login_lockout_minutes: int = Field(default=15, alias="EZSCALE_LOGIN_LOCKOUT_MINUTES")
    # Past the limits above, each further attempt waits twice as long as the one before, starting
    # here and capped at the lockout minutes; a browser that signed in before is exempt.
    login_delay_seconds: int = Field(default=30, ge=1, alias="EZSCALE_LOGIN_DELAY_SECONDS")
    # Peers whose X-Forwarded-For is believed (comma-separated IPs or CIDRs, e.g. the Caddy host).
    trusted_proxies: str = Field(default="", alias="EZSCALE_TRUSTED_PROXIES")
    # Sign-ups, reset and verification mails per client IP and per address, in a sliding hour.
    mail_limit_per_ip: int = Field(default=30, ge=1, alias="EZSCALE_MAIL_LIMIT_PER_IP")
    mail_limit_per_address: int = Field(default=5, ge=1, alias="EZSCALE_MAIL_LIMIT_PER_ADDRESS")
    # Password hashing and other CPU-bound work of page events runs on this many threads.
    cpu_workers: int = Field(default=4, ge=1, le=64, alias="EZSCALE_CPU_WORKERS")
    # Links in mail: https and no port unless the platform domain is localhost (then http and
    # EZSCALE_PORT); override for another setup.
    public_scheme: str | None = Field(default=None, alias="EZSCALE_PUBLIC_SCHEME", pattern="^https?$")
    public_port: int | None = Field(default=None, ge=1, le=65535, alias="EZSCALE_PUBLIC_PORT")
    # Billing (issue 5). Stripe test keys from the environment; STRIPE_API_BASE points at localstripe.
    stripe_secret_key: str = Field(default="sk_test_localstripe", alias="STRIPE_SECRET_KEY")
    stripe_publishable_key: str = Field(default="pk_test_localstripe", alias="STRIPE_PUBLISHABLE_KEY")
    stripe_webhook_secret: str = Field(default="whsec_localstripe", alias="STRIPE_WEBHOOK_SECRET")
    stripe_api_base: str | None = Field(default=None, alias="STRIPE_API_BASE")
    stripe_max_retries: int = Field(default=4, alias="EZSCALE_STRIPE_MAX_RETRIES")
    stripe_retry_base_seconds: float = Field(default=0.5, alias="EZSCALE_STRIPE_RETRY_BASE_SECONDS")
    seller_country: str = Field(default="US", alias="EZSCALE_SELLER_COUNTRY")
    renewal_days_ahead: int = Field(default=7, alias="EZSCALE_RENEWAL_DAYS_AHEAD")
    dunning_retry_days: str = Field(default="1,3,5", alias="EZSCALE_DUNNING_RETRY_DAYS")
    dunning_reminder_days_before: int = Field(default=3, alias="EZSCALE_DUNNING_REMINDER_DAYS_BEFORE")
    suspend_after_days: int = Field(default=7, alias="EZSCALE_SUSPEND_AFTER_DAYS")
    terminate_after_days: int = Field(default=30, alias="EZSCALE_TERMINATE_AFTER_DAYS")
    # Kasm Workspaces server (defaults: the simulator `ezscale run` starts on loopback).
    kasm_api_url: str = Field(default="http://127.0.0.1:8391", alias="KASM_API_URL")
    kasm_api_key: str = Field(default="demo-key", alias="KASM_API_KEY")
    kasm_api_secret: str = Field(default="demo-secret", alias="KASM_API_SECRET")
    kasm_auth_mode: str = Field(default="body", alias="KASM_AUTH_MODE", pattern="^(body|basic)$")
    kasm_timeout_seconds: float = Field(default=10.0, alias="KASM_TIMEOUT_SECONDS")
    kasm_retries: int = Field(default=2, alias="KASM_RETRIES")
    kasm_provision_attempts: int = Field(default=5, alias="KASM_PROVISION_ATTEMPTS")
    kasm_min_credit_minor: int = Field(default=500, alias="KASM_MIN_CREDIT_MINOR")
    kasm_low_balance_hours: int = Field(default=24, alias="KASM_LOW_BALANCE_HOURS")
    kasm_keepalive_seconds: int = Field(default=300, alias="KASM_KEEPALIVE_SECONDS")
    # Admin alerts (Discord webhook and/or email).
    alert_discord_webhook_url: str | None = Field(default=None, alias="ALERT_DISCORD_WEBHOOK_URL")
    alert_email: str | None = Field(default=None, alias="ALERT_EMAIL")

    @model_validator(mode="after")
    def _demo_defaults(self) -> "Settings":
        if self.dev_outbox is None:
            self.dev_outbox = self.demo
        if self.secure_cookies is None:
            self.secure_cookies = not self.demo
        return self

    @property
    def is_postgres(self) -> bool:
        return (self.database_url or "").startswith("postgres")

    @property
    def central_url(self) -> str:
        """SQLAlchemy URL of the central database."""
        if self.database_url:
            return normalise_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'central.sqlite').resolve()}"

    @property
    def live_socket_path(self) -> Path:
        """The Unix datagram socket the web backend listens on for workspace changes (SQLite)."""
        return (self.live_socket or self.data_dir / "kasm-live.sock").resolve()

    @property
    def broker_url(self) -> str:
        if self.redis_url:
            return self.redis_url
        return f"sqla+sqlite:///{(self.data_dir / 'celery-broker.sqlite').resolve()}"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme spelling the environment gives."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
