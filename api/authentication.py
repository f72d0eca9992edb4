"""Authentication for the API: personal access tokens (``Authorization: Bearer agp_…``) and the
site's session (with CSRF on unsafe methods, as DRF's SessionAuthentication enforces)."""

from rest_framework import authentication, exceptions

from .services import token_authenticate


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``; ``request.auth`` is the PersonalAccessToken."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>'."
            )
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid, expired or revoked.")
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The site's own session; unsafe methods need the CSRF token (``X-CSRFToken``)."""
