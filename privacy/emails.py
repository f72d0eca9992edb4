"""Privacy emails (plain text and HTML): the export is ready; the account was deleted."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import DataExport


def send_export_ready(*, export_id: int) -> None:
    """Email the shopper the signed download link of a ready export (nothing if it is no
    longer downloadable or the account has no email)."""
    from .services import export_download_url

    export = DataExport.objects.select_related("user").get(pk=export_id)
    if not export.is_downloadable or not export.user.email:
        return
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
