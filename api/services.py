"""Write-side operations of the API app: personal access tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .exceptions import ApiError, TokenNotAllowed
from .models import PersonalAccessToken, Scope

TOKEN_PREFIX = "agp_"
MAX_ACTIVE_TOKENS = 20


def token_digest(raw: str) -> str:
    """The stored form of a token: hex SHA-256 of its UTF-8 text."""
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedToken:
    token: PersonalAccessToken
    raw: str  # shown to the user once; never stored


@transaction.atomic
def token_create(
    *, user, name: str, scopes: list[str], expires_at: datetime | None = None
) -> CreatedToken:
    """Create a personal access token for ``user``.

    Returns the row and the token text (``agp_`` + 43 URL-safe characters, 256 random bits),
    which only this return value ever holds. Raises ``ApiError`` for a blank name, no or unknown
    scopes, a past expiry or too many active tokens, and ``TokenNotAllowed`` when a non-staff
    user asks for the staff scope.
    """
    name = (name or "").strip()[:80]
    if not name:
        raise ApiError("Give the token a name, so you recognise it later.")
    wanted = sorted(set(scopes or []))
    unknown = [s for s in wanted if s not in Scope.values]
    if not wanted or unknown:
        raise ApiError("Choose one or more scopes among read, write and staff.")
    if Scope.STAFF in wanted and not user.is_staff:
        raise TokenNotAllowed("Only staff accounts can create tokens with the staff scope.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiError("The expiry date must be in the future.")
    if PersonalAccessToken.objects.active().filter(user=user).count() >= MAX_ACTIVE_TOKENS:
        raise ApiError(f"You can have at most {MAX_ACTIVE_TOKENS} active tokens; revoke one.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:12],
        digest=token_digest(raw),
        scopes=wanted,
        expires_at=expires_at,
    )
    return CreatedToken(token=token, raw=raw)


@transaction.atomic
def token_revoke(*, user, token_id) -> PersonalAccessToken:
    """Revoke one of ``user``'s tokens (idempotent: revoking twice keeps the first time).

    Raises ``TokenNotFound`` when the token is not the user's."""
    from .exceptions import TokenNotFound

    token = PersonalAccessToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is None:
        raise TokenNotFound("You have no such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(raw: str) -> PersonalAccessToken | None:
    """The active token with this text, with its user, or None. Marks it used (at most once a
    minute, so a busy script does not write on every request)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        PersonalAccessToken.objects.active()
        .select_related("user")
        .filter(digest=token_digest(raw))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
