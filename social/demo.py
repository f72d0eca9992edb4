"""Demo data: some shoppers signed in with Friendbook and shared part of their profile.

Idempotent: a shopper who already has consent records is left alone.
"""

import random

from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from . import consent
from .models import ConsentRecord
from .services import consent_apply_sign_in

INTERESTS = ["Running", "Hiking", "Coffee", "Gaming", "Yoga", "Cooking", "Jazz", "Sneakers"]
RELATIONSHIPS = ["single", "in_relationship", "married", "engaged"]
BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64"]


def seed(*, stdout) -> None:
    rng = random.Random(3)  # noqa: S311 - demo data
    users = get_user_model().objects.filter(email__regex=r"^shopper(0[1-9]|1[0-9]|20)@agora\.test$")
    done = 0
    for user in users.order_by("email"):
        if ConsentRecord.objects.filter(user=user).exists():
            continue
        granted = {c for c in consent.OPTIONAL if c != consent.FRIENDS and rng.random() < 0.6}
        SocialAccount.objects.get_or_create(
            provider="friendbook", uid=f"demo-{user.pk}", defaults={"user": user}
        )
        consent_apply_sign_in(
            user=user,
            provider="friendbook",
            granted=granted,
            profile={
                "display_name": user.get_full_name() or user.first_name,
                "age_band": rng.choice(BANDS),
                "birthday_month": rng.randint(1, 12),
                "birthday_day": rng.randint(1, 28),
                "gender": rng.choice(["female", "male", "nonbinary"]),
                "relationship_status": rng.choice(RELATIONSHIPS),
                "interests": rng.sample(INTERESTS, 3),
            },
        )
        done += 1
    stdout.write(f"Social: {done} shoppers shared part of a Friendbook profile.\n")
