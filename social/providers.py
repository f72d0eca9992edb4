"""Which scopes each social provider needs for each consent category.

Providers not listed here (or categories a provider has no scope for) are offered with the
basic profile only: the store never asks for what it cannot keep apart.
"""

from . import consent

SCOPES: dict[str, dict[str, list[str]]] = {
    "friendbook": {
        consent.BASIC: ["openid", "profile", "email"],
        consent.AGE: ["birthday"],
        consent.BIRTHDAY: ["birthday"],
        consent.GENDER: ["gender"],
        consent.RELATIONSHIP: ["relationship"],
        consent.INTERESTS: ["interests"],
        consent.FRIENDS: ["friends"],
    },
    "google": {consent.BASIC: ["openid", "profile", "email"]},
    "facebook": {consent.BASIC: ["email", "public_profile"]},
}

# The claim that carries each category's data; a category counts as released by the provider
# only when its claim is present in what the provider sent back.
CLAIMS: dict[str, str] = {
    consent.AGE: "birthdate",
    consent.BIRTHDAY: "birthdate",
    consent.GENDER: "gender",
    consent.RELATIONSHIP: "relationship_status",
    consent.INTERESTS: "interests",
    consent.FRIENDS: "friends",
}


def offered_categories(provider_id: str) -> list[str]:
    """The categories the permission screen offers for this provider, in display order."""
    scopes = SCOPES.get(provider_id, {})
    return [code for code in consent.CATEGORIES if code == consent.BASIC or code in scopes]


def scopes_for(provider_id: str, categories: set[str]) -> list[str] | None:
    """The scopes to request for ``categories`` (None: the provider's default scopes)."""
    scopes = SCOPES.get(provider_id)
    if scopes is None:
        return None
    wanted: list[str] = []
    for code in consent.CATEGORIES:
        if code == consent.BASIC or code in categories:
            for scope in scopes.get(code, []):
                if scope not in wanted:
                    wanted.append(scope)
    return wanted
