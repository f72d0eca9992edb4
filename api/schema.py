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


def add_problem_responses(result, generator, request, public):
    """Postprocessing hook: every operation documents the problem+json error responses."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
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
