"""The Celery app. Broker: Redis when REDIS_URL is set, else an embedded SQLite broker."""

import logging

from celery import Celery, signals

from ezscale import tenant_context
from ezscale.services.kasm import signal as kasm_signal
from ezscale.settings import get_settings
from ezscale.tasks.schedule import BEAT_SCHEDULE

TASK_MODULES = [
    "ezscale.tasks.analytics",
    "ezscale.tasks.billing",
    "ezscale.tasks.fx",
    "ezscale.tasks.kasm",
    "ezscale.tasks.mail",
    "ezscale.tasks.provisioning",
    "ezscale.tasks.tenancy",
    "ezscale.tasks.wholesale",
]


def make_celery() -> Celery:
    """The Celery app: Redis as broker and result store when configured, else SQLite files in the
    data directory, so a worker needs no extra service."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    results = (
        settings.redis_url
        if settings.redis_url
        else f"db+sqlite:///{(settings.data_dir / 'celery-results.sqlite').resolve()}"
    )
    app = Celery("ezscale", include=TASK_MODULES)
    app.conf.update(
        broker_url=settings.broker_url,
        result_backend=results,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        timezone="UTC",
        enable_utc=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        result_expires=86400,
        beat_schedule=BEAT_SCHEDULE,
        # Paid orders waiting for delivery do not queue behind reports and billing runs.
        task_routes={"ezscale.tasks.provisioning.run_job": {"queue": "critical"}},
        beat_schedule_filename=str((settings.data_dir / "celerybeat-schedule").resolve()),
        # kombu's SQL transport passes these options to create_engine, so only Redis gets them.
        broker_transport_options={"visibility_timeout": 3600} if settings.redis_url else {},
    )
    return app


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _tenant_scoped_logs(logger: logging.Logger, **_: object) -> None:
    for handler in logger.handlers:
        tenant_context.install(handler)


@signals.worker_init.connect
def _announce_kasm_changes(**_: object) -> None:
    """Workers announce committed workspace changes to live dashboards."""
    kasm_signal.install()


# The embedded SQLite broker is polled (kombu's default: once a second, which a paid order would
# wait on); its transport options go to `create_engine`, so the interval is set on the transport.
SQLITE_BROKER_POLL_SECONDS = 0.1


def _poll_sqlite_broker_often() -> None:
    if get_settings().redis_url:
        return
    from kombu.transport import sqlalchemy as sql_transport

    sql_transport.Transport.polling_interval = SQLITE_BROKER_POLL_SECONDS


_poll_sqlite_broker_often()
celery_app = make_celery()
