"""The registry of webhook event types. An app registers its events once (at import of its
``webhooks`` hooks or in ``AppConfig.ready()``) and emits them with
``webhooks.services.webhook_event_emit(event=..., payload=...)``::

    from webhooks import registry

    registry.register(
        "coupon.issued",
        "A loyalty coupon was issued to a customer.",
        data={"coupon_id": "integer", "customer_id": "integer", "code_last4": "string"},
        example={"coupon_id": 3, "customer_id": 42, "code_last4": "X7Q2"},
    )

``data`` maps each payload field to its JSON type; it becomes the event's schema in the
OpenAPI ``webhooks`` section and the admin's event choices. Payloads carry ids and public
fields only: never an address, email, or anything the event does not need.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    data: dict[str, str | dict]
    example: dict = field(default_factory=dict)


_events: dict[str, EventType] = {}


def register(name: str, description: str, *, data: dict, example: dict | None = None) -> EventType:
    """Declare an event type (idempotent for the same name)."""
    event = EventType(name=name, description=description, data=data, example=example or {})
    _events[name] = event
    return event


def get(name: str) -> EventType | None:
    return _events.get(name)


def all_events() -> list[EventType]:
    return sorted(_events.values(), key=lambda e: e.name)


def choices() -> list[tuple[str, str]]:
    return [(e.name, f"{e.name}: {e.description}") for e in all_events()]
