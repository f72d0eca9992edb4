"""Names a shopper may not take because they would pass for the store (issue 17, item 4).

One rule for every name another shopper sees: profile handles and display names, allauth
usernames (chosen or generated from an email address), forum author names. The check is
case-insensitive and compares a *skeleton* of the name: Unicode NFKC, case folded, accents
stripped, common look-alikes (Cyrillic/Greek homoglyphs, ``0→o 1→l 3→e 4→a 5→s 7→t @→a $→s``,
``rn→m``, ``vv→w``) mapped to Latin letters, separators removed; in the spirit of Unicode
UTS #39 "confusable skeletons", reduced to what fits in a shop handle.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

# A name whose whole skeleton is one of these is refused.
RESERVED = frozenset(
    [
        "admin",
        "administrator",
        "agora",
        "agorashop",
        "agorastore",
        "staff",
        "support",
        "supportteam",
        "moderator",
        "mod",
        "mods",
        "moderators",
        "official",
        "team",
        "help",
        "helpdesk",
        "info",
        "contact",
        "service",
        "customerservice",
        "customercare",
        "root",
        "system",
        "sysadmin",
        "security",
        "abuse",
        "billing",
        "payments",
        "sales",
        "shop",
        "store",
        "orders",
        "webmaster",
        "postmaster",
        "hostmaster",
        "noreply",
        "donotreply",
        "mail",
        "email",
        "privacy",
        "legal",
        "api",
        "www",
        "null",
        "none",
        "anonymous",
        "guest",
        "owner",
        "manager",
        "operator",
        "ceo",
        "founder",
        "press",
        "news",
        "announcements",
    ]
)
# A name containing one of these as a word (or starting with one) is refused too:
# "agora-support", "Admin_2", "the-moderator", "agorafan".
STRONG = ("agora", "admin", "administrator", "staff", "support", "moderator", "official")

_CONFUSABLES = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "|": "l",
        "!": "i",
        "i": "l",  # l/I/i/1 all collapse to "l"
        # Cyrillic and Greek letters that look Latin
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "l",
        "ј": "j",
        "ԁ": "d",
        "ɡ": "g",
        "α": "a",
        "β": "b",
        "ε": "e",
        "ι": "l",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
    }
)


def skeleton(text: str) -> str:
    """The comparison form of ``text``: lower-case ASCII letters with look-alikes folded."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = text.translate(_CONFUSABLES)
    text = re.sub(r"[^a-z]", "", text)
    return text.replace("rn", "m").replace("vv", "w")


def _fold_reserved(words) -> frozenset[str]:
    return frozenset(skeleton(word) for word in words)


_RESERVED = _fold_reserved(RESERVED)
_STRONG = tuple(skeleton(word) for word in STRONG)


def is_reserved_name(name: str) -> bool:
    """True when ``name`` would pass for the store or its staff (see the module docstring)."""
    whole = skeleton(name)
    if not whole:
        return False
    if whole in _RESERVED or whole.startswith(_STRONG):
        return True
    words = [skeleton(word) for word in re.split(r"[\s\-_.·]+", name or "")]
    return any(word.startswith(_STRONG) for word in words if word)


def validate_not_reserved(value: str) -> None:
    """Model/form validator: a clear message naming why the name is refused."""
    if is_reserved_name(value):
        raise ValidationError(
            "“%(value)s” is reserved: it could be mistaken for the store or its staff. "
            "Please choose another name.",
            code="reserved_name",
            params={"value": value},
        )


def public_name(user) -> str:
    """The name other shoppers see for ``user``: their first name unless it is reserved, else
    their username; "Former member" for a deleted account. Staff keep their names."""
    if user is None:
        return "Former member"
    first = (user.first_name or "").strip()
    if first and (user.is_staff or not is_reserved_name(first)):
        return first
    return user.username
