"""OpenAPI additions: the token security scheme, problem-details error responses on every
operation, and the webhooks section (filled from the webhooks app's event registry)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details. Branch on `code`.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["out_of_stock"]},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string", "examples": ["#/quantity"]},
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["pointer", "detail", "code"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}

ERROR_STATUSES = {
    "400": "Invalid input or a domain rule refused it (see `code`).",
    "401": "No valid credentials.",
    "402": "The payment was declined.",
    "403": "Not allowed for this account, role or token scope.",
    "404": "No such resource (or not yours).",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Conflicts with the current state (out of stock, already done...).",
    "415": "Unsupported media type.",
    "429": "Too many requests; see Retry-After.",
}


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (`agp_…`) created under Account → API tokens.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The site's session; unsafe methods need the X-CSRFToken header.",
        }


def only_v1(endpoints):
    """Preprocessing hook: the schema documents /api/v1/ (the pre-v1 paths are aliases)."""
    return [e for e in endpoints if e[0].startswith("/api/v1/")]


PROBLEM_EXAMPLE = {
    "type": "http://127.0.0.1:8000/api/problems/out_of_stock",
    "title": "Out of stock",
    "status": 409,
    "detail": "Only 2 of Linen shirt (White / M) left in stock.",
    "code": "out_of_stock",
    "instance": "/api/v1/cart/items/",
}
FORMAT_EXAMPLES = {
    "date-time": "2025-12-01T10:00:00Z",
    "date": "2025-12-01",
    "email": "ana@example.com",
    "uri": "https://agora.example/api/v1/",
    "decimal": "49.00",
}


def example_for(schema: dict, components: dict, depth: int = 0):
    """A plausible value for a JSON schema (used where no example was written by hand)."""
    if depth > 6:
        return None
    if "$ref" in schema:
        return example_for(
            components.get(schema["$ref"].rsplit("/", 1)[-1], {}), components, depth + 1
        )
    for key in ("allOf", "oneOf", "anyOf"):
        if schema.get(key):
            return example_for(schema[key][0], components, depth + 1)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v not in ("", None)), schema["enum"][0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {
            name: example_for(sub, components, depth + 1)
            for name, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [example_for(schema.get("items", {}), components, depth + 1)]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 4.5
    if kind == "boolean":
        return True
    if kind == "string":
        return FORMAT_EXAMPLES.get(schema.get("format", ""), "string")
    return None


def add_problem_responses(result, generator, request, public):
    """Postprocessing hook: every operation documents the problem+json error responses, and
    every JSON response without a hand-written example gets one built from its schema."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = {**PROBLEM_SCHEMA, "example": PROBLEM_EXAMPLE}
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "example" not in media and "examples" not in media:
                    media["example"] = example_for(media.get("schema", {}), components)
            for code, response in responses.items():
                for media in response.get("content", {}).values():
                    if code.startswith("2") and "example" not in media and "examples" not in media:
                        media["example"] = example_for(media.get("schema", {}), components)
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": ref}},
                    },
                )
    return result


def add_webhooks(result, generator, request, public):
    """Postprocessing hook: the ``webhooks`` section, one entry per registered event."""
    try:
        from webhooks.schema import webhooks_section
    except ImportError:  # the webhooks app is optional
        return result
    result["webhooks"] = webhooks_section(result)
    return result


# OpenAPI links (create → read / update / delete): the id in the 201 body is the ``pk`` of the
# detail operations. Clients read them as documentation; schemathesis's stateful tests follow
# them to chain real calls.
LINKS = {
    "staff_customers_notes_create": "staff_notes",
    "staff_customers_tasks_create": "staff_tasks",
    "staff_segments_create": "staff_segments",
    "staff_banners_create": "staff_banners",
}
LINK_ACTIONS = {
    "retrieve": "Read",
    "partial_update": "Update",
    "destroy": "Delete",
}


def add_links(result, generator, request, public):
    """Postprocessing hook: the ``links`` of the create operations in LINKS."""
    operations = {
        op.get("operationId"): op
        for item in result.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict)
    }
    for create, detail in LINKS.items():
        operation = operations.get(create)
        if operation is None or "201" not in operation.get("responses", {}):
            continue
        links = operation["responses"]["201"].setdefault("links", {})
        for action, verb in LINK_ACTIONS.items():
            target = f"{detail}_{action}"
            if target in operations:
                names = [
                    p["name"] for p in operations[target].get("parameters", []) if p["in"] == "path"
                ]
                links[f"{verb}{detail.removeprefix('staff_').title()}"] = {
                    "operationId": target,
                    "parameters": {name: "$response.body#/id" for name in names[:1]},
                    "description": f"{verb} what was just created.",
                }
    return result
