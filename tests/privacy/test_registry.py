"""The registry covers every model that can point at a shopper (issue 13).

Discovery goes through Django's app registry, so a model added by any app later (segments,
loyalty, outreach, CRM, API tokens ...) fails this test until it is registered in its app's
``privacy.py`` (see docs/privacy.md).
"""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models

from privacy import registry
from privacy.registry import Delete, Detach, Keep, RegistryError


def user_pointers(model) -> list[str]:
    """What makes ``model`` able to point at a shopper: its FK/O2O fields to the user model,
    its GenericForeignKeys, its email fields (``kind:name`` strings)."""
    user_model = get_user_model()
    found = []
    for field in model._meta.get_fields(include_hidden=True):
        if isinstance(field, GenericForeignKey):
            found.append(f"generic:{field.name}")
        elif getattr(field, "concrete", False) and field.is_relation:
            if (field.many_to_one or field.one_to_one) and field.related_model is user_model:
                found.append(f"fk:{field.name}")
        elif isinstance(field, models.EmailField):
            found.append(f"email:{field.name}")
    return found


def test_discovery_finds_the_known_shopper_models():
    """Given the app registry, the discovery sees the models we know point at shoppers (so a
    broken discovery cannot pass the coverage test by finding nothing)."""
    found = {m._meta.label: user_pointers(m) for m in apps.get_models()}
    assert "fk:user" in found["shop.Order"] and "email:email" in found["shop.Order"]
    assert "generic:target" in found["engagement.Like"]
    assert "email:email" in found["auth.User"]
    assert found["shop.Product"] == []


def test_every_model_pointing_at_a_shopper_is_registered():
    missing = []
    for model in apps.get_models():
        pointers = user_pointers(model)
        if not pointers:
            continue
        label = model._meta.label
        if label in registry.exemptions():
            continue
        registration = registry.get(label)
        if registration is None:
            missing.append(f"{label} ({', '.join(pointers)})")
    assert not missing, (
        "These models can point at a shopper but are not in the privacy registry; register "
        "them in their app's privacy.py (docs/privacy.md): " + "; ".join(missing)
    )


def test_every_user_field_of_a_registered_model_has_a_strategy():
    """Each FK/O2O to the user is the owner, a reference with its own strategy, or covered."""
    unaccounted = []
    for registration in registry.registrations():
        model = registration.model
        for pointer in user_pointers(model):
            kind, _, name = pointer.partition(":")
            if kind != "fk":
                continue
            if name not in registration.user_fields():
                unaccounted.append(f"{registration.label}.{name}")
    assert not unaccounted, f"User fields without an erasure strategy: {unaccounted}"


def test_detach_is_only_used_on_nullable_fields():
    wrong = []
    for registration in registry.registrations():
        strategies = dict(registration.references)
        if registration.owner and "__" not in registration.owner and registration.owner != "pk":
            strategies[registration.owner] = registration.erase
        for name, strategy in strategies.items():
            if isinstance(strategy, Detach) and not registration.model._meta.get_field(name).null:
                wrong.append(f"{registration.label}.{name}")
    assert not wrong, f"Detach needs a nullable field: {wrong}"


def test_exported_fields_are_documented_and_readable(db, django_user_model):
    """Every registration that exports documents its fields, and a plain ``fields`` export
    reads them without error (catches a typo in a field name)."""
    user = django_user_model.objects.create_user("reader", "reader@example.com", "x")
    for registration in registry.registrations():
        assert registration.description.strip(), registration.label
        if registration.export is None and registration.fields:
            list(registration.rows_of(user).values(*registration.fields))


def test_kinds_are_unique_and_a_model_registers_once():
    kinds = [r.kind for r in registry.registrations()]
    assert len(kinds) == len(set(kinds))
    with pytest.raises(RegistryError):
        registry.register("shop.Order", kind="orders-again", description="x")
    with pytest.raises(RegistryError):
        registry.register("shop.Product", kind="orders", description="x")
    assert registry.get("shop.Product") is None


def test_an_unregistered_model_is_reported(monkeypatch):
    """The coverage test can fail: remove a registration and it reports the model."""
    saved = registry.get("shop.Cart")
    registry.unregister("shop.Cart")
    try:
        with pytest.raises(AssertionError, match="shop.Cart"):
            test_every_model_pointing_at_a_shopper_is_registered()
    finally:
        registry._registry["shop.Cart"] = saved


def test_strategies_describe_themselves():
    assert Delete().describe() == "deleted"
    assert Keep("proof").describe() == "kept: proof"
