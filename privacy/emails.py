"""Privacy emails (plain text and HTML): the export is ready; the account was deleted."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import DataExport


def send_export_ready(*, export_id: int) -> bool:
    """Email the shopper the signed download link of a ready export, once; returns whether it
    was sent now (nothing if it is no longer downloadable, the account has no email, or the
    email went out already).

    The export row is locked while the email goes out and ``ready_emailed_at`` is set in the
    same transaction, so a re-run task (a redelivery, a call parked while the broker was down)
    sends nothing twice; an SMTP failure (``OSError``) rolls back and leaves it owed."""
    from .services import export_download_url

    with transaction.atomic():
        export = (
            DataExport.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=export_id, ready_emailed_at__isnull=True)
            .first()
        )
        if export is None or not export.is_downloadable or not export.user.email:
            return False
        _send_ready(export, export_download_url)
        DataExport.objects.filter(pk=export.pk).update(ready_emailed_at=timezone.now())
    return True


def _send_ready(export: DataExport, export_download_url) -> None:
    context = {
        "export": export,
        "user": export.user,
        "url": f"{settings.SITE_URL}{export_download_url(export)}",
        "site_url": settings.SITE_URL,
    }
    message = EmailMultiAlternatives(
        subject="Your Agora data is ready to download",
        body=render_to_string("privacy/emails/export_ready.txt", context),
        to=[export.user.email],
    )
    message.attach_alternative(
        render_to_string("privacy/emails/export_ready.html", context), "text/html"
    )
    message.send()
