"""What a shopper can share from a social account, and why the store asks for it.

``CATEGORIES`` maps each category code to its description; other apps use the codes
(``social.consent.GENDER`` ...) with ``social.selectors.granted_categories(user)``.
"""

from dataclasses import dataclass

from django.conf import settings

BASIC = "basic"
AGE = "age"
BIRTHDAY = "birthday"
GENDER = "gender"
RELATIONSHIP = "relationship"
INTERESTS = "interests"
FRIENDS = "friends"


@dataclass(frozen=True)
class Category:
    code: str
    title: str
    purpose: str  # what the store uses it for, in plain words
    shares: str  # what the provider will send
    required: bool = False


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in [
        Category(
            BASIC,
            "Basic profile",
            "To create your Agora account and sign you in: your name greets you, your email "
            "gets order confirmations.",
            "Your name and email address.",
            required=True,
        ),
        Category(
            AGE,
            "Your age",
            "To suggest products for your age group. We keep only an age band (like 25–34), "
            "never your birth date.",
            "Your birth date, which we turn into an age band straight away.",
        ),
        Category(
            BIRTHDAY,
            "Your birthday",
            "To send you a birthday treat. We keep only the day and month.",
            "Your birth date, of which we keep the day and month.",
        ),
        Category(
            GENDER,
            "Gender",
            "To show the departments and sizes you are likely to look for first.",
            "The gender on your profile.",
        ),
        Category(
            RELATIONSHIP,
            "Relationship status",
            "To suggest gifts and offers for couples and families when they fit.",
            "Your relationship status.",
        ),
        Category(
            INTERESTS,
            "Interests and likes",
            "To recommend products that match what you like.",
            "The interests and pages you like (we keep at most 50).",
        ),
        Category(
            FRIENDS,
            "Friends who also shop here",
            "To show what your friends on Agora like and recommend. Friends who are not "
            "Agora shoppers are not stored.",
            "Your friends list.",
        ),
    ]
}
OPTIONAL = [code for code, c in CATEGORIES.items() if not c.required]


def policy_version() -> str:
    """The privacy policy version that a consent given now refers to."""
    return settings.AGORA_PRIVACY_POLICY_VERSION
