from django import template

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
