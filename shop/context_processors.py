from django.conf import settings

from .cart import cart_count
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
