from django.conf import settings

from .cart import cart_count
from .lazy import csrf_token_for_context
from .selectors import category_tree


def storefront(request):
    """Header data on every page: the category menu (cached) and the cart count (one query)."""
    if request.path.startswith("/admin/"):
        return {}
    return {
        "nav_categories": category_tree().roots,
        "cart_count": cart_count(request),
        "currency": settings.AGORA_CURRENCY,
    }


def lazy_csrf(request):
    """On store pages marked ``@cookieless_for_visitors``, an anonymous visitor without a CSRF
    cookie gets no token (so no Set-Cookie); ``agora.js`` makes one when a form is sent.

    Everywhere else ``csrf_token`` is Django's own (this processor returns nothing).
    """
    token = csrf_token_for_context(request)
    return {} if token is None else {"csrf_token": token}
