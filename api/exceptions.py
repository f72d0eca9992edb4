"""Errors of the API app itself (tokens, scopes). Shop-wide domain errors are ShopError."""

from shop.exceptions import ShopError


class ApiError(ShopError):
    status_code = 400


class TokenNotAllowed(ApiError):
    status_code = 403


class TokenNotFound(ApiError):
    status_code = 404
