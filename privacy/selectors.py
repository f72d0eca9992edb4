"""Read-side queries of the privacy pages."""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import QuerySet

from . import registry
from .models import DataExport, ErasureRequest, PrivacySettings

REAUTH_SECONDS = 600  # a social confirmation counts for ten minutes


def recent_exports(*, user, limit: int = 5) -> list[DataExport]:
    return list(DataExport.objects.filter(user=user).order_by("-created_at", "-pk")[:limit])


def pending_export(*, user) -> DataExport | None:
    return DataExport.objects.filter(user=user, status=DataExport.Status.PENDING).first()


def open_erasure(*, user) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(
        user=user,
        status__in=[ErasureRequest.Status.SCHEDULED, ErasureRequest.Status.RUNNING],
    ).first()


def grace_days() -> int:
    """The staff-set grace period before an erasure runs (0 when never set)."""
    found = PrivacySettings.objects.filter(pk=1).values_list("erasure_grace_days", flat=True)
    return found.first() or 0


def social_accounts(*, user) -> QuerySet:
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.filter(user=user).order_by("pk")


def recently_reauthenticated_socially(request, *, user, since: float | None) -> bool:
    """True when, after ``since`` (Unix seconds, set when the shopper started the
    confirmation), and within the last ``REAUTH_SECONDS``, the shopper signed in again through
    one of their own social accounts (allauth records each authentication in the session)."""
    if since is None:
        return False
    from allauth.account.internal.flows.login import get_authentication_records

    uids = {(a.provider, a.uid) for a in social_accounts(user=user)}
    now = time.time()
    for record in get_authentication_records(request, user):
        if record.get("method") != "socialaccount":
            continue
        at = float(record.get("at", 0))
        recent = at >= since and now - at <= REAUTH_SECONDS
        if recent and (record.get("provider"), record.get("uid")) in uids:
            return True
    return False


def decisions_for(*, user, limit: int = 50) -> list[registry.Decision]:
    return registry.recent_decisions(user, limit=limit)


def decision_source_names() -> list[str]:
    return sorted(registry.decision_sources())


def retention_rows() -> list[dict]:
    """Each retention kind with its period in days (None: until the account is erased)."""
    return [
        {"key": r.key, "label": r.label, "description": r.description, "days": r.days()}
        for r in registry.retention_kinds()
    ]


def how_we_use() -> dict:
    """What the "How we use your data" page shows: the consent categories and their purposes,
    every registered kind of data with its description and what erasure does with it, the
    retention periods, the export link lifetime and the grace period."""
    from social import consent

    kinds = [
        {
            "kind": r.kind,
            "title": r.kind.replace("_", " ").capitalize(),
            "description": r.description,
            "on_erasure": r.erase.describe(),
        }
        for r in sorted(registry.registrations(), key=lambda r: r.kind)
        if r.exported
    ]
    return {
        "categories": list(consent.CATEGORIES.values()),
        "kinds": kinds,
        "retention": retention_rows(),
        "link_hours": int(getattr(settings, "PRIVACY_EXPORT_LINK_HOURS", 72)),
        "grace_days": grace_days(),
        "policy_version": consent.policy_version(),
    }


def reauth_key(user) -> str:
    """Cache key of the moment a social-only shopper started confirming it is them. Kept
    server-side, not in the session: allauth's sign-in at the provider's callback starts a
    fresh session, which would drop it."""
    return f"privacy:reauth-started:{user.pk}"


def identity_confirmed(request, *, user, password: str | None) -> bool:
    """The rule of the deletion page, for every way in (page and API): an account with a
    password confirms with it; a social-only account must have signed in again through one of
    its own social accounts within ``REAUTH_SECONDS`` (started from the deletion page)."""
    from django.core.cache import cache

    if user.has_usable_password():
        return bool(password) and user.check_password(password)
    return recently_reauthenticated_socially(request, user=user, since=cache.get(reauth_key(user)))
