"""No session and no cookie for an anonymous visitor until one is needed (issue 15).

A store page (home, product lists, search, product page) looks the same for every anonymous
visitor, so it should not give each of them a session or a CSRF cookie: with neither, the page
is shareable and costs no session write. What used to set them on a plain GET, and what does
now:

- the CSRF token rendered into forms and the htmx header: on pages marked with
  ``cookieless_for_visitors``, a visitor with no CSRF cookie gets an empty token, and
  ``static/js/agora.js`` makes the token when a form is sent (a random 32-character secret set
  as the CSRF cookie and sent in the form or header: Django's double-submit check accepts an
  unmasked secret). Signed-in shoppers, and visitors who already have the cookie, get Django's
  token as before. Without JavaScript the first POST from such a page shows the CSRF page,
  which sets the cookie, and sending it again works.
- the anonymous id (``personalization.events.anonymous_id``) for view and search events and
  the banner: read when the visitor already has one, created only by a cart add, a like, a
  share or sign-in.
"""

from functools import wraps

from django.conf import settings
from django.middleware.csrf import get_token
from django.utils.functional import SimpleLazyObject

ATTRIBUTE = "agora_cookieless"


def cookieless_for_visitors(view):
    """Mark a GET page as one that sets no cookie for an anonymous visitor who has none."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        setattr(request, ATTRIBUTE, True)
        return view(request, *args, **kwargs)

    return wrapped


def visitor_is_cookieless(request) -> bool:
    """True when ``request`` comes from an anonymous visitor with neither a session nor a CSRF
    cookie, on a page marked ``cookieless_for_visitors``."""
    if not getattr(request, ATTRIBUTE, False) or request.method != "GET":
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    cookies = request.COOKIES
    return settings.CSRF_COOKIE_NAME not in cookies and settings.SESSION_COOKIE_NAME not in cookies


def csrf_token_for_context(request):
    """The template's ``csrf_token``: None to keep Django's, or a lazy value that is empty for a
    cookieless visitor (nothing rendered, no cookie) and Django's token for everyone else."""
    if not getattr(request, ATTRIBUTE, False):
        return None
    from .signed import csrf_token_for_context as signed_token

    placeholder = signed_token(request)  # a signed-in page the cache may keep (shop.signed)
    if placeholder is not None:
        return placeholder
    return SimpleLazyObject(lambda: "" if visitor_is_cookieless(request) else get_token(request))
