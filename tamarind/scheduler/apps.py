from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "tamarind.scheduler"
    label = "scheduler"
    verbose_name = "Scheduler and background runs"
