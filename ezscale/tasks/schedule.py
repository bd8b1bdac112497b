"""The whole Celery beat schedule, in one place."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "tenancy.expire-trials": {
        "task": "ezscale.tasks.tenancy.expire_trials",
        "schedule": crontab(minute=5),
    },
}
