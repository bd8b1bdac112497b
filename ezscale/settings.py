"""One validated settings object, read from the environment (prefix-free names as documented)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    data_dir: Path = Field(default=Path("data"), alias="EZSCALE_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    tenant_db_prefix: str = Field(default="ezscale_tenant_", alias="EZSCALE_TENANT_DB_PREFIX")
    platform_domain: str = Field(default="localhost", alias="EZSCALE_PLATFORM_DOMAIN")
    platform_name: str = Field(default="EZSCALE", alias="EZSCALE_PLATFORM_NAME")
    port: int = Field(default=3000, alias="EZSCALE_PORT")
    default_currency: str = Field(default="USD", alias="EZSCALE_CURRENCY")
    # Comma-separated Fernet keys, newest first (rotation). Unset: a key file in the data dir.
    encryption_keys: str | None = Field(default=None, alias="EZSCALE_ENCRYPTION_KEYS")
    # Accounts and security. SMTP_URL: smtp://user:pass@host:587 (STARTTLS) or smtps://host:465;
    # unset, mail stays in the outbox, which the demo shows at /dev/outbox (EZSCALE_DEV_OUTBOX).
    smtp_url: str | None = Field(default=None, alias="SMTP_URL")
    dev_outbox: bool = Field(default=True, alias="EZSCALE_DEV_OUTBOX")
    session_hours: int = Field(default=24 * 14, alias="EZSCALE_SESSION_HOURS")
    login_max_failures_per_account: int = Field(default=5, alias="EZSCALE_LOGIN_MAX_FAILURES")
    login_max_failures_per_ip: int = Field(default=20, alias="EZSCALE_LOGIN_MAX_FAILURES_PER_IP")
    login_lockout_minutes: int = Field(default=15, alias="EZSCALE_LOGIN_LOCKOUT_MINUTES")

    @property
    def is_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.startswith("postgres")

    @property
    def central_url(self) -> str:
        """SQLAlchemy URL of the central database."""
        if self.database_url:
            return normalise_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'central.sqlite').resolve()}"

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
