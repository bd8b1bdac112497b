"""The whole Celery beat schedule, in one place."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "billing.daily": {"task": "ezscale.tasks.billing.daily_all", "schedule": crontab(minute=0, hour=1)},
    "billing.usage": {"task": "ezscale.tasks.billing.usage_all", "schedule": crontab(minute=30, hour=1)},
    "wholesale.bill-resellers": {
        "task": "ezscale.tasks.wholesale.bill_resellers",
        "schedule": crontab(minute=30, hour=2),
    },
    "provisioning.sweep": {"task": "ezscale.tasks.provisioning.sweep", "schedule": 15.0},
    "kasm.reconcile": {"task": "ezscale.tasks.kasm.reconcile_all", "schedule": 15.0},
    "kasm.keepalive-and-credit-guard": {"task": "ezscale.tasks.kasm.guard_all", "schedule": 60.0},
    "tenancy.purge-deleted": {
        "task": "ezscale.tasks.tenancy.purge_deleted",
        "schedule": crontab(minute=15, hour=3),
    },
    "analytics.snapshot-yesterday": {
        "task": "ezscale.tasks.analytics.snapshot_day",
        "schedule": crontab(minute=20, hour=0),
    },
    "tenancy.check-tls": {"task": "ezscale.tasks.tenancy.check_tls", "schedule": crontab(minute=40)},
    # The ECB publishes around 16:00 CET: fetch after it, again hourly until the evening (a
    # day already stored is kept, so the repeats are harmless).
    "fx.refresh-rates": {
        "task": "ezscale.tasks.fx.refresh_rates",
        "schedule": crontab(minute=35, hour="15-21", day_of_week="1-5"),
    },
    "tenancy.expire-trials": {
        "task": "ezscale.tasks.tenancy.expire_trials",
        "schedule": crontab(minute=5),
    },
}
