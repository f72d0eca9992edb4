"""Turning what a provider sent into the little the shopper agreed to share.

Everything here is pure: untrusted claims in, cleaned and reduced values out. A value that is
missing, malformed or of an unknown kind is dropped rather than guessed; lists are capped.
"""

import re
from datetime import date
from typing import Any

from . import consent
from .providers import CLAIMS

MAX_INTERESTS = 50
MAX_INTEREST_LENGTH = 60
MAX_FRIENDS = 1000
MAX_UID_LENGTH = 191
MAX_NAME_LENGTH = 150

# Claims that identify the account; allauth keeps these in SocialAccount.extra_data.
IDENTITY_KEYS = {
    "sub",
    "id",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "email",
    "email_verified",
    "verified_email",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "picture",
}

AGE_BANDS = [
    (0, 17, "under-18"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 120, "65+"),
]

GENDERS = {
    "female": "female",
    "woman": "female",
    "f": "female",
    "male": "male",
    "man": "male",
    "m": "male",
    "non-binary": "nonbinary",
    "nonbinary": "nonbinary",
    "non binary": "nonbinary",
    "other": "other",
}

RELATIONSHIPS = {
    "single": "single",
    "in a relationship": "in_relationship",
    "in_relationship": "in_relationship",
    "in_a_relationship": "in_relationship",
    "engaged": "engaged",
    "married": "married",
    "civil union": "married",
    "domestic partnership": "in_relationship",
    "it's complicated": "complicated",
    "its_complicated": "complicated",
    "complicated": "complicated",
    "separated": "separated",
    "divorced": "divorced",
    "widowed": "widowed",
}

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_SPACES = re.compile(r"\s+")


def merged_claims(extra_data: Any) -> dict[str, Any]:
    """One flat dict of claims: userinfo wins over the ID token (OpenID Connect shape)."""
    if not isinstance(extra_data, dict):
        return {}
    if "userinfo" in extra_data or "id_token" in extra_data:
        merged: dict[str, Any] = {}
        for part in ("id_token", "userinfo"):
            value = extra_data.get(part)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    return dict(extra_data)


def identity_only(extra_data: Any) -> dict[str, Any]:
    """``extra_data`` with every claim beyond the account's identity removed."""
    if not isinstance(extra_data, dict):
        return {}
    if "userinfo" in extra_data or "id_token" in extra_data:
        return {
            part: identity_only(value)
            for part, value in extra_data.items()
            if part in ("userinfo", "id_token") and isinstance(value, dict)
        }
    return {k: v for k, v in extra_data.items() if k in IDENTITY_KEYS}


def released_categories(claims: dict[str, Any]) -> set[str]:
    """Categories whose claim the provider sent back (it may grant less than asked)."""
    released = {consent.BASIC}
    for code, claim in CLAIMS.items():
        if claim in claims:
            released.add(code)
    return released


def parse_birthdate(value: Any) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) from an OpenID ``birthdate`` ("YYYY-MM-DD", year may be 0000)."""
    if not isinstance(value, str) or len(value) > 10:
        return None
    match = _DATE.match(value.strip())
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: 29 February is fine
    except ValueError:
        return None
    return (year or None, month, day)


def age_band(birthdate: Any, *, today: date) -> str:
    parsed = parse_birthdate(birthdate)
    if not parsed or parsed[0] is None:
        return ""
    year, month, day = parsed
    if date(year, month, day if (month, day) != (2, 29) else 28) > today:
        return ""
    age = today.year - year - ((today.month, today.day) < (month, day))
    for low, high, band in AGE_BANDS:
        if low <= age <= high:
            return band
    return ""


def _choice(value: Any, table: dict[str, str]) -> str:
    if not isinstance(value, str) or len(value) > 40:
        return ""
    key = _SPACES.sub(" ", value.strip().lower().replace("’", "'"))
    return table.get(key, "")


def clean_interests(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    seen: set[str] = set()
    cleaned: list[str] = []
    for item in value[: MAX_INTERESTS * 20]:
        if isinstance(item, dict):
            item = item.get("name")
        if not isinstance(item, str):
            continue
        text = _SPACES.sub(" ", item).strip()
        if not text or len(text) > MAX_INTEREST_LENGTH or not text.isprintable():
            continue
        if text.casefold() in seen:
            continue
        seen.add(text.casefold())
        cleaned.append(text)
        if len(cleaned) >= MAX_INTERESTS:
            break
    return cleaned


def clean_friend_uids(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    seen: set[str] = set()
    uids: list[str] = []
    for item in value[: MAX_FRIENDS * 2]:
        if isinstance(item, dict):
            item = item.get("sub")
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item or len(item) > MAX_UID_LENGTH:
            continue
        if item not in seen:
            seen.add(item)
            uids.append(item)
        if len(uids) >= MAX_FRIENDS:
            break
    return uids


def clean_profile(claims: dict[str, Any], granted: set[str], *, today: date) -> dict[str, Any]:
    """The social-profile values for exactly the ``granted`` categories, cleaned and reduced.

    Keys for categories that were not granted are absent; a granted category whose claim is
    unusable maps to an empty value.
    """
    profile: dict[str, Any] = {}
    name = claims.get("name")
    profile["display_name"] = name.strip()[:MAX_NAME_LENGTH] if isinstance(name, str) else ""
    if consent.AGE in granted:
        profile["age_band"] = age_band(claims.get("birthdate"), today=today)
    if consent.BIRTHDAY in granted:
        parsed = parse_birthdate(claims.get("birthdate"))
        profile["birthday_month"] = parsed[1] if parsed else None
        profile["birthday_day"] = parsed[2] if parsed else None
    if consent.GENDER in granted:
        profile["gender"] = _choice(claims.get("gender"), GENDERS)
    if consent.RELATIONSHIP in granted:
        profile["relationship_status"] = _choice(claims.get("relationship_status"), RELATIONSHIPS)
    if consent.INTERESTS in granted:
        profile["interests"] = clean_interests(claims.get("interests"))
    if consent.FRIENDS in granted:
        profile["friend_uids"] = clean_friend_uids(claims.get("friends"))
    return profile
