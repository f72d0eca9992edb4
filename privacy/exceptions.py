"""Domain errors of the privacy app; ShopErrorMiddleware turns unhandled ones into 4xx pages."""

from shop.exceptions import ShopError


class PrivacyError(ShopError):
    def __init__(self, message: str = "", *, status_code: int | None = None):
        super().__init__(message)
        if status_code is not None:
            self.status_code = status_code


class ReasonRequired(PrivacyError):
    status_code = 400


class ErasureNotAllowed(PrivacyError):
    status_code = 409


class ConfirmationFailed(PrivacyError):
    status_code = 403


class ExportNotAvailable(PrivacyError):
    status_code = 404
