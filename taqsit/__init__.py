"""Taqsit's project package and core app. The Celery app loads with Django so ``@shared_task`` uses it."""

from taqsit.celery import app as celery_app

__all__ = ("celery_app",)
