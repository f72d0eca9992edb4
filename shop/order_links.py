"""Order links that work in any browser: a signed, expiring key for one order (issue 17, item 2).

A guest has no account, and the session that placed the order is gone in another browser, so
the order emails link to ``/orders/<number>/?key=<key>``. The key is a Django
``TimestampSigner`` signature (HMAC-SHA256 with ``SECRET_KEY``, salted for this use) of the
order's number and email address: it opens that order only, for
``AGORA_ORDER_LINK_MAX_AGE_DAYS`` days after it was issued, and rotating ``SECRET_KEY`` or
changing the order's email address revokes it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

from .models import Order

_SALT = "shop.order-link"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT, algorithm="sha256")


def _value(order: Order) -> str:
    return f"{order.number}:{order.email.lower()}"


def max_age() -> timedelta:
    return timedelta(days=getattr(settings, "AGORA_ORDER_LINK_MAX_AGE_DAYS", 90))


def order_link_key(order: Order) -> str:
    """The key for ``order``'s link: the signature part only (the number is in the path)."""
    return _signer().sign(_value(order)).split(":", 2)[-1]


def order_link(order: Order) -> str:
    """Site-relative URL of ``order``'s page that opens in any browser until the key expires."""
    return f"{order.get_absolute_url()}?key={order_link_key(order)}"


class LinkExpired(Exception):
    """The key was right for this order but is older than ``max_age()``."""


def order_link_check(order: Order, key: str) -> bool:
    """True when ``key`` opens ``order``; False for a key of another order, a forged or garbled
    key; raises ``LinkExpired`` for this order's key past its age."""
    if not key or len(key) > 200:
        return False
    try:
        _signer().unsign(f"{_value(order)}:{key}", max_age=max_age())
    except signing.SignatureExpired as error:
        raise LinkExpired(str(error)) from error
    except signing.BadSignature:
        return False
    return True
