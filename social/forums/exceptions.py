"""Forum errors: ShopError subclasses, so an unhandled one still becomes a 4xx page."""

from shop.exceptions import ShopError


class ForumError(ShopError):
    status_code = 400


class InvalidPost(ForumError):
    pass


class TopicLocked(ForumError):
    status_code = 403


class NotAllowed(ForumError):
    status_code = 403


class Banned(ForumError):
    status_code = 403


class RateLimited(ForumError):
    status_code = 429


class NotFound(ForumError):
    status_code = 404
