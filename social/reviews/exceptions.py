"""Review errors: a ShopError subclass, so an unhandled one still becomes a 4xx page."""

from shop.exceptions import ShopError


class ReviewError(ShopError):
    status_code = 400


class InvalidReview(ReviewError):
    pass


class DuplicateReview(ReviewError):
    status_code = 409


class AlreadyVoted(ReviewError):
    status_code = 409


class NotAllowed(ReviewError):
    status_code = 403


class RateLimited(ReviewError):
    status_code = 429


class NotFound(ReviewError):
    status_code = 404
