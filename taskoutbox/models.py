"""A task call that could not be published because the broker was down (issue 16)."""

from django.db import models
from django.utils import timezone


class ParkedTask(models.Model):
    """One ``apply_async`` call kept in PostgreSQL until the broker takes it again.

    Written by ``config.celery.Task.apply_async`` when publishing fails with ``BROKER_DOWN``;
    re-published and deleted by ``taskoutbox.services.parked_publish`` (beat, every 30 s).
    ``args``/``kwargs`` are the call's JSON values (every Agora task takes ids); ``options``
    the publishing options that matter (queue, priority, retries ...); ``eta`` the absolute
    time the call asked for (``countdown`` is turned into it when parked), if any.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    eta = models.DateTimeField(null=True, blank=True)
    error = models.CharField(
        max_length=300, blank=True, help_text="Why it was parked, or why publishing it failed."
    )
    parked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = "parked task"

    def __str__(self):
        return f"{self.task} #{self.pk}"
