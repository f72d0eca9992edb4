from django.conf import settings
from django.db import models


class Profile(models.Model):
    """What Friendbook knows about a member. Stored as the member typed it (may be messy)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="friendbook", on_delete=models.CASCADE
    )
    birthdate = models.CharField(max_length=40, blank=True)  # "YYYY-MM-DD"
    gender = models.CharField(max_length=60, blank=True)
    relationship_status = models.CharField(max_length=60, blank=True)
    interests = models.JSONField(default=list, blank=True)
    friends = models.ManyToManyField("self", symmetrical=True, blank=True)

    def __str__(self):
        return self.user.email
