"""Merging two customer accounts: every row that points at the dropped one moves to the kept one.

The relations are discovered from the app registry (every FK and one-to-one to the user model,
in every installed app), not listed by hand, so a new model is moved too. Unique constraints
are respected generically: a row of the dropped customer that would collide with one of the
kept customer's (the same like, the same one-to-one profile) is deleted instead of moved.
A model with a rule of its own registers a handler with ``register_handler(model, fn)``;
``fn(*, field, keep, drop) -> int`` returns the rows it moved.

Forward many-to-many fields of the user (staff groups and permissions) are not moved: a
customer merge never grants staff rights. The dropped account is deactivated, not deleted, so
the audit log and foreign keys that point at it stay readable.
"""

from collections.abc import Callable

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q

from .exceptions import CrmError

_handlers: dict[type[models.Model], Callable[..., int]] = {}

# Relations left on the dropped account, and why. Every other relation is moved.
KEPT = {
    "auth.User_groups.user": "staff groups are never granted by a merge",
    "auth.User_user_permissions.user": "staff permissions are never granted by a merge",
    "admin.LogEntry.user": "the admin's own log of staff actions",
    "crm.AuditEntry.actor": "the audit log records what happened to whom",
    "crm.AuditEntry.customer": "the audit log records what happened to whom",
    "privacy.AuditEntry.actor": "the privacy audit log records what happened to whom",
    "privacy.AuditEntry.subject": "the privacy audit log records what happened to whom",
    "privacy.DataExport.user": "an archive of the dropped account's own data, as it was",
    "privacy.DataExport.requested_by": "who asked for that archive",
    "privacy.ErasureRequest.user": "an erasure request names the account it was made for",
    "privacy.ErasureRequest.requested_by": "who asked for that erasure",
    "api.PersonalAccessToken.user": "a token is never moved to another account: it stays with "
    "the deactivated one, where it no longer works",
}


def relation_key(field) -> str:
    return f"{field.model._meta.label}.{field.name}"


def policy(field) -> str:
    """ "keep" for the relations in KEPT, "move" for every other one."""
    return "keep" if relation_key(field) in KEPT else "move"


def register_handler(model: type[models.Model], handler: Callable[..., int]) -> None:
    _handlers[model] = handler


def user_relations() -> list[models.Field]:
    """Every concrete FK / one-to-one field of an installed model that points at the user."""
    user_model = get_user_model()
    fields = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy:
            continue
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is user_model:
                fields.append(f)
    return sorted(fields, key=lambda f: (f.model._meta.label, f.name))


def _unique_sets(model, field) -> list[tuple[list[str], Q | None]]:
    """The unique field sets of ``model`` that include ``field`` (with their condition)."""
    sets = []
    if field.unique or field.one_to_one:
        sets.append(([], None))
    for together in model._meta.unique_together:
        if field.name in together:
            sets.append(([n for n in together if n != field.name], None))
    for constraint in model._meta.constraints:
        unique = isinstance(constraint, models.UniqueConstraint) and constraint.fields
        if unique and field.name in constraint.fields:
            others = [n for n in constraint.fields if n != field.name]
            sets.append((others, constraint.condition))
    return sets


def _generic_move(*, field, keep, drop) -> int:
    model = field.model
    manager = model._base_manager
    rows = manager.filter(**{field.name: drop})
    for others, condition in _unique_sets(model, field):
        clash = manager.filter(**{field.name: keep}, **{n: OuterRef(n) for n in others})
        candidates = rows
        if condition is not None:
            clash = clash.filter(condition)
            candidates = candidates.filter(condition)
        candidates.filter(Exists(clash)).delete()
    # two FKs to the user on one row (a follow between the two accounts) would point at itself
    for other in model._meta.concrete_fields:
        if other is not field and other.is_relation and other.related_model is field.related_model:
            rows.filter(**{other.name: keep}).delete()
    return manager.filter(**{field.name: drop}).update(**{field.name: keep})


@transaction.atomic
def customer_merge(*, keep, drop, actor) -> dict[str, int]:
    """Move every row pointing at ``drop`` to ``keep``, deactivate ``drop``, write the audit row.

    Returns ``{"app_label.Model.field": rows moved}`` for every relation that moved something.
    Both accounts are locked (in id order) first, so two merges of one pair cannot interleave.
    Raises CrmError when merging an account with itself, a staff account, or a merged one.
    """
    from . import services
    from .models import AuditEntry

    user_model = get_user_model()
    if keep.pk == drop.pk:
        raise CrmError("Choose two different customers.")
    locked = {
        u.pk: u
        for u in user_model.objects.select_for_update()
        .filter(pk__in=[keep.pk, drop.pk])
        .order_by("pk")
    }
    keep, drop = locked[keep.pk], locked[drop.pk]
    if keep.is_staff or drop.is_staff:
        raise CrmError("Staff accounts are not merged.")
    if not keep.is_active or not drop.is_active:
        raise CrmError("One of these accounts was already merged or deactivated.")
    moved: dict[str, int] = {}
    for field in user_relations():
        if policy(field) == "keep":
            continue
        handler = _handlers.get(field.model, _generic_move)
        count = handler(field=field, keep=keep, drop=drop)
        if count:
            moved[relation_key(field)] = count
    if not keep.first_name and drop.first_name:
        keep.first_name, keep.last_name = drop.first_name, drop.last_name
        keep.save(update_fields=["first_name", "last_name"])
    drop.is_active = False
    drop.set_unusable_password()
    drop.save(update_fields=["is_active", "password"])
    services.audit_record(
        actor=actor,
        action=AuditEntry.Action.MERGE,
        customer=keep,
        dropped_id=drop.pk,
        dropped_email=drop.email,
        moved=moved,
    )
    keep_id = keep.pk

    def _rebuild():
        from personalization.tasks import rebuild_profile

        rebuild_profile.delay(keep_id)

    transaction.on_commit(_rebuild)
    from shop.pagecache import storefront_changed
    from shop.signed import shoppers_changed

    storefront_changed()  # reviews and likes moved: their names on cached store pages
    # Rows moved by ``update`` send no signal: the kept shopper's own cached pages (cart count,
    # their likes and follows) are rendered again, now and after commit.
    shoppers_changed([keep_id, drop.pk])
    return moved
