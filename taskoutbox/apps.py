from django.apps import AppConfig


class TaskOutboxConfig(AppConfig):
    name = "taskoutbox"
    verbose_name = "Task outbox"
    default_auto_field = "django.db.models.BigAutoField"
