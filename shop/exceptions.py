"""Domain errors raised by shop services. Views map them to messages and 4xx responses."""


class ShopError(Exception):
    """A problem the shopper can fix; ``str(error)`` is the message to show them."""

    status_code = 400


class InvalidQuantity(ShopError):
    pass


class ProductUnavailable(ShopError):
    status_code = 404


class OutOfStock(ShopError):
    status_code = 409


class EmptyCart(ShopError):
    pass


class PaymentDeclined(ShopError):
    status_code = 402


class InvalidStatusTransition(ShopError):
    status_code = 409


class CodeNotApplicable(ShopError):
    """A discount code that does not apply; the message says which condition failed."""

    status_code = 400


class OrderLinkExpired(ShopError):
    status_code = 410

    def __init__(self, message=""):
        super().__init__(
            message
            or "This order link has expired. Sign in to see your orders, or reply to your "
            "order email and we will send you a fresh link."
        )
