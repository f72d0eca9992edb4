"""What reviews and forum posts share besides their analysis: the report a shopper files on
someone else's text, the trust rule for new accounts, the write rate limit, and the view step
that turns a domain error into a form error with its HTTP status, and the admin change form
whose saves go through services.

Both feature apps build on it; neither imports the other.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect
from django.utils import timezone

from shop.exceptions import ShopError


class Report(models.Model):
    """A shopper's report on someone's text. Subclasses add the reported object and a unique
    constraint (one report per shopper per object)."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)

    class Meta:
        abstract = True
        ordering = ["resolved", "-created_at"]


def is_new_account(user) -> bool:
    """Accounts younger than ``AGORA_FORUMS_NEW_ACCOUNT_DAYS`` (staff never are): their links are
    nofollow and they may write less often."""
    if user.is_staff:
        return False
    days = getattr(settings, "AGORA_FORUMS_NEW_ACCOUNT_DAYS", 3)
    return user.date_joined > timezone.now() - timedelta(days=days)


def rate_limit_check(
    *,
    user,
    limits: dict[str, tuple[int, int]],
    writes_since: Callable[[datetime], int],
    error: type[ShopError],
    noun: str,
) -> None:
    """Raise ``error`` when ``user`` already wrote ``count`` things in the last ``seconds``.

    ``limits`` maps "new" and "member" to (count, seconds); staff are never limited.
    ``writes_since(since)`` counts the shopper's writes since that moment."""
    if user.is_staff:
        return
    count, seconds = limits["new" if is_new_account(user) else "member"]
    if writes_since(timezone.now() - timedelta(seconds=seconds)) >= count:
        minutes = max(1, seconds // 60)
        raise error(
            f"You are posting too fast: at most {count} {noun} in {minutes} minute"
            f"{'s' if minutes != 1 else ''}. Please wait a little and try again."
        )


def submit_form(form, call: Callable[[dict], object], *, error: type[ShopError] = ShopError):
    """Validate ``form`` and pass its data to ``call`` (a service). Returns (result, status):
    the service's result and 200, or None with the form carrying the error and the status to
    answer with (400 for invalid input, the domain error's own status otherwise)."""
    if not form.is_valid():
        return None, 400
    try:
        return call(form.cleaned_data), 200
    except error as exc:
        form.add_error(None, str(exc))
        return None, exc.status_code


class ServiceChangeAdmin(admin.ModelAdmin):
    """Change forms whose saves go through services. When a service refuses (a ShopError raised
    from save_model), the whole save is rolled back (changeform_view runs in a transaction) and
    staff see only the service's error on the form again, never Django's "changed successfully"
    beside it."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ShopError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
