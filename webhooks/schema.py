"""The OpenAPI 3.1 ``webhooks`` section: one entry per registered event type."""

from . import registry

HEADERS = [
    ("webhook-id", "The message id (`msg_…`), the same on every retry: drop duplicates."),
    ("webhook-timestamp", "Unix seconds when this attempt was signed; reject if too old."),
    (
        "webhook-signature",
        "Space-separated `v1,<base64 HMAC-SHA256>` signatures of `{id}.{timestamp}.{body}`, "
        "one per active secret; accept when any matches.",
    ),
]


def _schema(spec) -> dict:
    if isinstance(spec, dict):
        return spec
    return {"type": spec}


def webhooks_section(result: dict) -> dict:
    section = {}
    for event in registry.all_events():
        data = {
            "type": "object",
            "properties": {k: _schema(v) for k, v in event.data.items()},
            "required": list(event.data),
        }
        section[event.name] = {
            "post": {
                "operationId": "webhook_" + event.name.replace(".", "_"),
                "summary": event.name,
                "description": event.description
                + " Signed as the Standard Webhooks specification says; see docs/api.md.",
                "tags": ["webhooks"],
                "parameters": [
                    {
                        "name": name,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for name, text in HEADERS
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string", "const": event.name},
                                    "timestamp": {"type": "string", "format": "date-time"},
                                    "data": data,
                                },
                                "required": ["type", "timestamp", "data"],
                            },
                            "example": {
                                "type": event.name,
                                "timestamp": "2025-12-01T10:00:00Z",
                                "data": event.example,
                            },
                        }
                    },
                },
                "responses": {
                    "2XX": {"description": "Received. Anything else is retried, except 4xx."},
                    "410": {"description": "Gone: the endpoint is disabled."},
                },
            }
        }
    return section
