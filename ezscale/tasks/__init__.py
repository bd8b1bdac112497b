"""Celery: one app (`celery -A ezscale.tasks worker -B`), thin tasks over the services."""

from ezscale.tasks.app import celery_app

__all__ = ["celery_app"]
