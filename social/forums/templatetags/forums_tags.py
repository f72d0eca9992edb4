from django import template
from django.utils.html import format_html

from social.engagement.selectors import public_profile_url
from social.names import public_name

from ..notifications import unread_count

register = template.Library()


@register.inclusion_tag("forums/_nav_link.html", takes_context=True)
def forums_nav(context):
    """The "Forums" link with the unread notification count (a cache read, no query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    count = unread_count(user) if user is not None else 0
    return {"unread": count}


@register.filter
def poster_name(user) -> str:
    return public_name(user)


@register.filter
def poster_link(user):
    """The poster's public name, linked to their public profile when it is public (plain text
    otherwise): the way to find someone to follow. Select ``author__public_profile``."""
    name = public_name(user)
    url = public_profile_url(user)
    if url is None:
        return name
    return format_html('<a class="poster" href="{}">{}</a>', url, name)
