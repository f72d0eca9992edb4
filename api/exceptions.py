"""Errors of the API app itself (tokens, scopes). Shop-wide domain errors are ShopError."""

from contextlib import contextmanager

from rest_framework.exceptions import ValidationError

from shop.exceptions import ShopError


class ApiError(ShopError):
    status_code = 400


class TokenNotAllowed(ApiError):
    status_code = 403


class TokenNotFound(ApiError):
    status_code = 404


@contextmanager
def invalid_input(*errors: type[Exception], field: str | None = None):
    """Turn a feature's domain error (``SegmentError``, ``CrmError`` ... which are not
    ShopErrors) into a 400 problem whose ``errors`` point at ``field`` with the message, which
    the features write to be shown (it names the bad rule, the missing title ...)."""
    try:
        yield
    except errors as error:
        message = str(error)
        raise ValidationError({field: [message]} if field else [message]) from None
