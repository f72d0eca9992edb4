"""Engagement settings, read when used (not at import) so ``override_settings`` works."""

from django.conf import settings


def social_proof_min_likes() -> int:
    """Below this many likes a total is not shown as a claim ("♥ 2" is not social proof)."""
    return int(getattr(settings, "ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES", 3))


def referral_days() -> int:
    """How long a visit through a share link keeps the visitor's orders attributed."""
    return int(getattr(settings, "ENGAGEMENT_REFERRAL_DAYS", 30))


def pending_like_minutes() -> int:
    """How long a like clicked while signed out waits for the shopper to sign in or sign up."""
    return int(getattr(settings, "ENGAGEMENT_PENDING_LIKE_MINUTES", 30))


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")
