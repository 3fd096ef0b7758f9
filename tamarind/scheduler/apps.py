from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_after_migrate(sender: AppConfig, apps: Any = None, **kwargs: Any) -> None:
    """Register the jobs apps declare once the tables exist (wiring only: the work is the service's)."""
    try:
        apps.get_model("scheduler", "PeriodicJob")
    except (LookupError, AttributeError):
        return  # migrated backwards past the scheduler's tables
    from tamarind.scheduler.services import periodic_jobs_sync

    periodic_jobs_sync()


class SchedulerConfig(AppConfig):
    name = "tamarind.scheduler"
    label = "scheduler"
    verbose_name = "Scheduler and background runs"

    def ready(self) -> None:
        post_migrate.connect(_sync_after_migrate, sender=self, dispatch_uid="tamarind.scheduler.sync")
