"""Sections of the public profile page that other apps fill (reviews, forum posts).

The reviews and forums apps register a section in their ``AppConfig.ready()``::

    from social.engagement import profile_sections

    profile_sections.register(
        key="reviews",
        title="Reviews",
        template="reviews/_profile_reviews.html",   # gets `items`, `profile`, `viewer`
        items=lambda *, user, viewer: Review.objects.public().filter(author=user)[:10],
    )

``items`` must return only what may be shown publicly (published, not hidden), in a constant
number of queries. ``filled()`` is the one privacy lock: it asks no section for items unless the
profile is public or the viewer is its owner. The profile page renders sections in
registration order, after the shopper's public likes; a section with no items shows nothing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    template: str
    items: Callable[..., Iterable]


_sections: dict[str, Section] = {}


def register(*, key: str, title: str, template: str, items: Callable[..., Iterable]) -> None:
    _sections[key] = Section(key=key, title=title, template=template, items=items)


def unregister(key: str) -> None:
    _sections.pop(key, None)


def sections() -> list[Section]:
    return list(_sections.values())


def filled(*, user, viewer) -> list[dict]:
    """The sections that have items on ``user``'s profile as ``viewer`` sees it; none at all
    while the profile is private, except for its owner's preview."""
    from .models import PublicProfile

    own = viewer is not None and viewer.is_authenticated and viewer.pk == user.pk
    if not own and not PublicProfile.objects.filter(user=user, is_public=True).exists():
        return []
    result = []
    for section in _sections.values():
        items = list(section.items(user=user, viewer=viewer))
        if items:
            result.append({"section": section, "items": items})
    return result
