"""The whole Celery beat schedule, in one place."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "kasm.reconcile": {"task": "ezscale.tasks.kasm.reconcile_all", "schedule": 30.0},
    "kasm.keepalive-and-credit-guard": {"task": "ezscale.tasks.kasm.guard_all", "schedule": 60.0},
    "tenancy.expire-trials": {
        "task": "ezscale.tasks.tenancy.expire_trials",
        "schedule": crontab(minute=5),
    },
}
