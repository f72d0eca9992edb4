from shop.exceptions import ShopError


class PersonalizationError(ShopError):
    """A shopper's request about their profile that cannot be done (shown as a 4xx)."""

    status_code = 400
