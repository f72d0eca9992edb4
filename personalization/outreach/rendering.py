"""Turning a campaign and a shopper into an email: personal fields, picks, coupon, links.

Campaign templates are Django templates written by staff. Their context holds plain values
only (no model objects): ``first_name``, ``last_name``, ``email``, ``picks`` (list of
``{name, price, url, image_url}``, each ``url`` a tracked link to the product), ``coupon``
(``{code, description}`` or None), ``shop_url`` (tracked link to the store),
``unsubscribe_url``, ``preferences_url`` and ``picks_why`` (plain words: where the picks came
from, "" without picks). The unsubscribe footer (with the picks' "why") and the open pixel are
added to every email whatever the template says.

The coupon comes from a hook: ``OUTREACH_COUPON_HOOK`` (dotted path) names a function
``hook(*, campaign, user, message_pk) -> dict | None`` returning ``{"code", "description"}``;
unset, campaigns carry no coupon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import make_msgid
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from . import links
from .exceptions import OutreachError
from .picks import picks_for

_ENGINE = Engine(autoescape=True)
_TEXT_ENGINE = Engine(autoescape=False)


@lru_cache(maxsize=128)
def _compiled(source: str, autoescape: bool):
    """A campaign template compiled once per process (a campaign's emails share it; editing
    the campaign changes the source, hence the key). Raises ``TemplateSyntaxError``."""
    return (_ENGINE if autoescape else _TEXT_ENGINE).from_string(source)


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    picks_source: str = ""  # where the picks came from (``picks.SOURCE_*``)


def check_templates(campaign) -> None:
    """Raise ``OutreachError`` naming the part whose template does not compile."""
    for label, source, engine in (
        ("subject", campaign.subject_template, _TEXT_ENGINE),
        ("HTML body", campaign.html_template, _ENGINE),
        ("text body", campaign.text_template, _TEXT_ENGINE),
    ):
        try:
            engine.from_string(source)
        except TemplateSyntaxError as exc:
            raise OutreachError(f"The {label} template has an error: {exc}") from None


def coupon_for(*, campaign, user, message_pk: int | None) -> dict | None:
    """The campaign's coupon for this shopper from ``OUTREACH_COUPON_HOOK``, or None."""
    path = getattr(settings, "OUTREACH_COUPON_HOOK", "")
    if not path or not campaign.coupon_ref:
        return None
    return import_string(path)(campaign=campaign, user=user, message_pk=message_pk)


def _absolute(url: str) -> str:
    if not url or url.startswith("http"):
        return url
    return settings.SITE_URL + url


def render_for(*, campaign, user, message_pk: int | None) -> Rendered:
    """Render ``campaign`` for ``user``; ``message_pk`` None renders a preview (links inert)."""
    pk = message_pk or 0
    chosen = picks_for(user, campaign.picks_count)
    picks = [
        {
            "name": pick.name,
            "price": pick.price,
            "url": links.click_url(pk, pick.url, product_id=pick.product_id),
            "image_url": _absolute(pick.image_url),
        }
        for pick in chosen.picks
    ]
    context = {
        "first_name": user.first_name or "there",
        "last_name": user.last_name,
        "email": user.email,
        "picks": picks,
        "picks_why": chosen.why,
        "coupon": coupon_for(campaign=campaign, user=user, message_pk=message_pk),
        "shop_url": links.click_url(pk, "/"),
        "unsubscribe_url": links.unsubscribe_url(pk),
        "preferences_url": links.preferences_url(pk),
        "site_url": settings.SITE_URL,
    }
    try:
        subject = _compiled(campaign.subject_template, False).render(Context(context))
        text = _compiled(campaign.text_template, False).render(Context(context))
        html = _compiled(campaign.html_template, True).render(Context(context))
    except TemplateSyntaxError as exc:
        raise OutreachError(f"The campaign template has an error: {exc}") from None
    footer = {**context, "open_url": links.open_url(pk), "preview": message_pk is None}
    text = text.rstrip() + "\n\n" + render_to_string("outreach/emails/footer.txt", footer)
    html_footer = render_to_string("outreach/emails/footer.html", footer)
    html = (
        html.replace("</body>", html_footer + "</body>")
        if "</body>" in html
        else (html + html_footer)
    )
    subject = " ".join(subject.split())[:200]
    return Rendered(
        subject=subject,
        text=text,
        html=html,
        headers=links.list_unsubscribe_headers(pk),
        picks_source=chosen.source,
    )


def build_email(*, message, connection=None) -> EmailMultiAlternatives:
    """The email for an outbox row, with its stored Message-ID and the unsubscribe headers.

    Sets ``message.picks_source`` (not saved here: the sender stores it with the sent state).
    """
    rendered = render_for(campaign=message.campaign, user=message.user, message_pk=message.pk)
    message.picks_source = rendered.picks_source
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[message.email or message.user.email],
        headers={
            **rendered.headers,
            "Message-ID": message.message_id,
            "X-Agora-Campaign": str(message.campaign_id),
        },
        connection=connection,
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def build_test_email(*, campaign, shopper, to: str) -> EmailMultiAlternatives:
    """A test send for staff: rendered for ``shopper``, sent to ``to``, links inert."""
    rendered = render_for(campaign=campaign, user=shopper, message_pk=None)
    email = EmailMultiAlternatives(
        subject=f"[Test] {rendered.subject}",
        body=rendered.text,
        to=[to],
        headers={"Message-ID": make_msgid(domain=message_id_domain()), "X-Agora-Test": "1"},
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def message_id_domain() -> str:
    return getattr(settings, "OUTREACH_MESSAGE_ID_DOMAIN", "") or (
        links.site_host().split(":")[0] or "agora.test"
    )
