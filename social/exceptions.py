"""Domain errors of the social app; ShopErrorMiddleware turns unhandled ones into 4xx pages."""

from shop.exceptions import ShopError


class SocialError(ShopError):
    pass


class ConsentNotGranted(SocialError):
    status_code = 409


class UnknownCategory(SocialError):
    status_code = 404


class CannotDisconnect(SocialError):
    status_code = 409
