"""The registry of models that shoppers can like and share.

An app makes its model likeable (and shareable) once, in its ``AppConfig.ready()``::

    from social.engagement import likeable

    likeable.register(
        Review,
        key="review",                                   # used in URLs: /likes/review/<pk>/
        queryset=lambda: Review.objects.select_related("product"),
        is_visible=lambda review: review.is_published,  # hidden items cannot be liked
        title=lambda review: f"Review of {review.product}",
        shareable=False,                                # no share bar for reviews
    )

then drops ``{% load engagement_tags %}{% like_button review %}`` into its templates (for a
list, call ``{% like_prefetch reviews %}`` once before the loop to keep the query count
constant), and ``{% share_bar topic %}`` for a share bar. The model needs
``get_absolute_url()`` (or pass ``url=``). Products are registered by this app (see ``apps.py``).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from .exceptions import ItemNotFound


def _always(obj) -> bool:
    return True


def _no_image(obj) -> str | None:
    return None


def _own_url(obj) -> str:
    return obj.get_absolute_url()


def _no_event_attributes(obj) -> dict:
    return {}


@dataclass(frozen=True)
class Likeable:
    model: type[Model]
    key: str
    queryset: Callable[[], QuerySet]
    is_visible: Callable[[Model], bool]
    title: Callable[[Model], str]
    image_url: Callable[[Model], str | None]
    shareable: bool
    url: Callable[[Model], str] = _own_url
    event_attributes: Callable[[Model], dict] = _no_event_attributes
    can_like: bool = True

    @property
    def content_type(self) -> ContentType:
        return ContentType.objects.get_for_model(self.model)  # cached by Django after once

    def get(self, object_id) -> Model:
        """The visible item with this id, or ItemNotFound (missing and hidden look alike)."""
        try:
            object_id = int(object_id)
        except (TypeError, ValueError):
            raise ItemNotFound("That item does not exist.") from None
        obj = self.queryset().filter(pk=object_id).first()
        if obj is None or not self.is_visible(obj):
            raise ItemNotFound(f"That {self.model._meta.verbose_name} is not available.")
        return obj

    def visible_in_bulk(self, ids) -> dict[int, Model]:
        objects = self.queryset().in_bulk(list(ids))
        return {pk: obj for pk, obj in objects.items() if self.is_visible(obj)}


_by_key: dict[str, Likeable] = {}
_by_model: dict[type[Model], Likeable] = {}


def register(
    model: type[Model],
    *,
    key: str | None = None,
    queryset: Callable[[], QuerySet] | None = None,
    is_visible: Callable[[Model], bool] | None = None,
    title: Callable[[Model], str] = str,
    image_url: Callable[[Model], str | None] | None = None,
    shareable: bool = True,
    url: Callable[[Model], str] | None = None,
    event_attributes: Callable[[Model], dict] | None = None,
    can_like: bool = True,
) -> Likeable:
    """Make ``model`` likeable (and shareable unless ``shareable=False``); idempotent.

    ``url`` gives the item's page (default: its ``get_absolute_url()``); ``event_attributes``
    adds to the ``like``/``share`` events (it may set ``product``, e.g. a review's product);
    ``can_like=False`` registers a share-only item (a forum topic): no like button, and the
    like endpoint answers 404.
    """
    key = key or model._meta.model_name
    entry = Likeable(
        model=model,
        key=key,
        queryset=queryset or (lambda: model._default_manager.all()),
        is_visible=is_visible or _always,
        title=title,
        image_url=image_url or _no_image,
        shareable=shareable,
        url=url or _own_url,
        event_attributes=event_attributes or _no_event_attributes,
        can_like=can_like,
    )
    existing = _by_key.get(key)
    if existing is not None and existing.model is not model:
        raise ValueError(f"The likeable key {key!r} is already used by {existing.model}.")
    _by_key[key] = entry
    _by_model[model] = entry
    return entry


def unregister(model: type[Model]) -> None:
    entry = _by_model.pop(model, None)
    if entry is not None:
        _by_key.pop(entry.key, None)


def for_key(key: str) -> Likeable:
    entry = _by_key.get(key)
    if entry is None:
        raise ItemNotFound("That kind of item cannot be liked or shared.")
    return entry


def for_object(obj) -> Likeable | None:
    return _by_model.get(type(obj)) or _by_model.get(obj._meta.concrete_model)


def for_content_type_id(content_type_id: int) -> Likeable | None:
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    return _by_model.get(model)


def resolve(key: str, object_id) -> tuple[Likeable, Model]:
    """The registry entry and the visible item for a URL's ``key`` and ``object_id``."""
    entry = for_key(key)
    return entry, entry.get(object_id)


def registered() -> list[Likeable]:
    return list(_by_key.values())
