"""Domain errors of the engagement app: a clear message for the shopper and a 4xx status."""

from shop.exceptions import ShopError


class EngagementError(ShopError):
    status_code = 400


class ItemNotFound(EngagementError):
    """The item does not exist, is hidden, or cannot be liked or shared."""

    status_code = 404


class InvalidReferral(EngagementError):
    status_code = 404


class InvalidChannel(EngagementError):
    status_code = 400


class ProfileNotFound(EngagementError):
    status_code = 404


class FollowNotAllowed(EngagementError):
    status_code = 400
