"""Thin Celery tasks of the social app."""

from celery import shared_task


@shared_task(acks_late=True)
def rebuild_profile_after_consent_change(user_id: int) -> None:
    """Rebuild the shopper's preference profile after their consent changed.

    Hook for the personalization app: when ``personalization.services.profile_rebuild_for_user``
    exists it is called as ``profile_rebuild_for_user(user_id=...)``; until then nothing is
    built from consented data, so there is nothing to rebuild.
    """
    try:
        from personalization.services import profile_rebuild_for_user
    except ImportError:
        return
    profile_rebuild_for_user(user_id=user_id)
