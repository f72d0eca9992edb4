"""Erasing a shopper through the registry.

``erase_personal_data`` applies, in registry order, each registration's ``references``
strategies (rows where the shopper appears in another role) and then its ``erase`` strategy
(the shopper's own rows); the account row itself is emptied last. Every per-shopper cache
registered with ``registry.register_cache`` is forgotten after commit.
"""

from __future__ import annotations

from django.db import transaction

from . import registry
from .registry import ErasureOptions


def erase_personal_data(*, user, options: ErasureOptions) -> dict[str, int]:
    """Remove or anonymize everything the registry knows about ``user``, in one transaction.

    Returns rows touched per kind (``{"orders": 2, "events": 10000, ...}``; references are
    counted as ``"<kind>.<field>"``). Raises whatever a strategy raises; the transaction is
    then rolled back and nothing is half-erased.
    """
    summary: dict[str, int] = {}
    user_id = user.pk
    with transaction.atomic():
        for registration in registry.registrations():
            manager = registration.model._default_manager
            for field, strategy in registration.references.items():
                touched = strategy.apply(
                    manager.filter(**{field: user_id}), field=field, user=user, options=options
                )
                if touched:
                    summary[f"{registration.kind}.{field}"] = touched
            if registration.owner is None and registration.rows is None:
                continue
            touched = registration.erase.apply(
                registration.rows_of(user),
                field=registration.owner or "",
                user=user,
                options=options,
            )
            if touched:
                summary[registration.kind] = touched
        transaction.on_commit(lambda: forget_caches(user_ids=[user_id]))
    return summary


def forget_caches(*, user_ids: list[int]) -> None:
    """Drop every registered per-shopper cache entry of ``user_ids``."""
    for forget in registry.cache_forgetters().values():
        forget(user_ids=user_ids)
