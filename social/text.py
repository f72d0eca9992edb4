"""Required text must contain something a reader can see (issue 17, item 12)."""

import unicodedata

# Characters Unicode classes as letters or symbols that nevertheless render blank.
_BLANK = {"\u2800", "\u3164", "\u115f", "\u1160", "\uffa0", "\u180e", "\u2060", "\ufeff"}
_INVISIBLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"}


def visible_length(text: str) -> int:
    """How many characters of ``text`` a reader sees (not whitespace, format or control
    characters, combining marks on their own, or blank "letters" such as U+2800 and U+3164)."""
    return sum(
        1
        for ch in text or ""
        if ch not in _BLANK and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
    )


def has_visible_text(text: str) -> bool:
    return visible_length(text) > 0
