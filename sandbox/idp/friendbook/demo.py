"""Friendbook's demo members. ``seed()`` is idempotent: it updates members and the store client."""

import json
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.idp.oidc.models import Client
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from .adapter import EXTRA_SCOPES, REQUIRED_SCOPES
from .models import Profile

DEMO_PASSWORD = "friendbook-demo"
DEMO_USERS = [
    {
        "email": "ana@friendbook.test",
        "first_name": "Ana",
        "last_name": "Lima",
        "birthdate": "1994-05-12",
        "gender": "female",
        "relationship_status": "in a relationship",
        "interests": ["Running", "Hiking", "Coffee", "Photography"],
        "friends": ["ben@friendbook.test", "chloe@friendbook.test", "elif@friendbook.test"],
    },
    {
        "email": "ben@friendbook.test",
        "first_name": "Ben",
        "last_name": "Okafor",
        "birthdate": "1988-11-02",
        "gender": "male",
        "relationship_status": "married",
        "interests": ["Cycling", "Cooking", "Jazz"],
        "friends": ["ana@friendbook.test", "david@friendbook.test"],
    },
    {
        "email": "chloe@friendbook.test",
        "first_name": "Chloé",
        "last_name": "Martin",
        "birthdate": "2001-02-20",
        "gender": "non-binary",
        "relationship_status": "single",
        "interests": ["Gaming", "Sneakers", "Anime"],
        "friends": ["ana@friendbook.test"],
    },
    {
        "email": "david@friendbook.test",
        "first_name": "David",
        "last_name": "Stein",
        "birthdate": "1975-07-30",
        "gender": "male",
        "relationship_status": "divorced",
        "interests": ["Golf", "Watches", "Wine"],
        "friends": ["ben@friendbook.test"],
    },
    {
        "email": "elif@friendbook.test",
        "first_name": "Elif",
        "last_name": "Kaya",
        "birthdate": "1999-09-09",
        "gender": "female",
        "relationship_status": "single",
        "interests": ["Yoga", "Vegan food", "Travel"],
        "friends": ["ana@friendbook.test", "chloe@friendbook.test"],
    },
]


@transaction.atomic
def seed(*, users=None, redirect_uris=None, stdout=None) -> None:
    User = get_user_model()
    users = DEMO_USERS if users is None else users
    password = make_password(DEMO_PASSWORD)
    profiles = {}
    for spec in users:
        email = spec["email"]
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create(
                username=email.split("@")[0][:150], email=email, password=password
            )
        user.first_name = spec.get("first_name", "")
        user.last_name = spec.get("last_name", "")
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        profile, _ = Profile.objects.get_or_create(user=user)
        for field in ("birthdate", "gender", "relationship_status", "interests"):
            if field in spec:
                setattr(profile, field, spec[field])
        profile.save()
        profiles[email] = profile
    for spec in users:
        friends = Profile.objects.filter(user__email__in=spec.get("friends", []))
        profiles[spec["email"]].friends.add(*friends)

    client, _ = Client.objects.get_or_create(
        id=settings.FRIENDBOOK_CLIENT_ID, defaults={"name": "Agora"}
    )
    client.name = "Agora"
    client.secret = make_password(settings.FRIENDBOOK_CLIENT_SECRET)
    client.type = Client.Type.CONFIDENTIAL
    client.set_scopes([*sorted(REQUIRED_SCOPES), *EXTRA_SCOPES])
    client.set_default_scopes(sorted(REQUIRED_SCOPES))
    client.grant_types = Client.GrantType.AUTHORIZATION_CODE
    client.response_types = "code"
    client.set_redirect_uris(redirect_uris or settings.FRIENDBOOK_REDIRECT_URIS)
    client.skip_consent = False
    client.save()
    if stdout:
        stdout.write(
            f"Friendbook: {len(users)} members (password {DEMO_PASSWORD}), client "
            f"{client.id} for {', '.join(client.get_redirect_uris())}\n"
        )


def load_users(path: str) -> list[dict]:
    return json.loads(Path(path).read_text())
