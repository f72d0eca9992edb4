"""One error format for the whole API: RFC 9457 problem details (``application/problem+json``).

Every error body is ``{"type", "title", "status", "detail", "code"}`` (plus ``errors`` for
invalid input: ``[{"pointer": "#/field", "detail", "code"}]``, and ``instance``, the request
path). ``code`` is the machine-readable part clients branch on; ``type`` is
``<SITE_URL>/api/problems/<code>``, a page describing it.

Domain errors are mapped once, here: every ``shop.exceptions.ShopError`` subclass (the social,
engagement, reviews, forums and personalization errors all derive from it) becomes a problem
with the class's ``status_code``, a ``code`` from its class name (``OutOfStock`` →
``out_of_stock``; a class may set ``problem_code`` instead) and its message as ``detail``.
"""

import logging
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from shop.exceptions import ShopError

logger = logging.getLogger("agora.api")
CONTENT_TYPE = "application/problem+json"

# code -> (status, title) for the errors that are not ShopError subclasses.
PROBLEMS: dict[str, tuple[int, str]] = {
    "invalid": (400, "Invalid input"),
    "malformed_request": (400, "Malformed request"),
    "not_authenticated": (401, "Authentication required"),
    "authentication_failed": (401, "Authentication failed"),
    "permission_denied": (403, "Not allowed"),
    "insufficient_scope": (403, "Token scope insufficient"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "not_acceptable": (406, "Not acceptable"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "throttled": (429, "Too many requests"),
    "server_error": (500, "Server error"),
}

_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def code_for_class(cls) -> str:
    """``OutOfStock`` → ``out_of_stock``; a class's ``problem_code`` wins."""
    explicit = cls.__dict__.get("problem_code")
    if explicit:
        return explicit
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def title_for_class(cls) -> str:
    explicit = cls.__dict__.get("problem_title")
    if explicit:
        return explicit
    return re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).capitalize()


def domain_problems() -> dict[str, tuple[int, str]]:
    """Every ShopError subclass loaded so far, by code: (status, title)."""
    found: dict[str, tuple[int, str]] = {}
    stack = [ShopError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        found.setdefault(code_for_class(cls), (cls.status_code, title_for_class(cls)))
    return found


def all_problems() -> dict[str, tuple[int, str]]:
    return {**domain_problems(), **PROBLEMS}


def problem_type(code: str) -> str:
    return f"{settings.SITE_URL}/api/problems/{code}"


def problem_body(*, status_code: int, code: str, title: str, detail: str, instance: str = ""):
    body = {
        "type": problem_type(code),
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    return body


def _pointer_errors(detail, prefix="#") -> list[dict]:
    """DRF's nested validation errors flattened to JSON pointers."""
    errors = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            where = prefix if key in ("non_field_errors", "__all__") else f"{prefix}/{key}"
            errors.extend(_pointer_errors(value, where))
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            for item in detail:
                errors.append(
                    {
                        "pointer": prefix,
                        "detail": str(item),
                        "code": getattr(item, "code", "invalid"),
                    }
                )
        else:
            for index, item in enumerate(detail):
                errors.extend(_pointer_errors(item, f"{prefix}/{index}"))
    else:
        errors.append(
            {"pointer": prefix, "detail": str(detail), "code": getattr(detail, "code", "invalid")}
        )
    return errors


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error, domain or framework, as a problem document."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers = {}
    if isinstance(exc, ShopError):
        cls = type(exc)
        body = problem_body(
            status_code=exc.status_code,
            code=code_for_class(cls),
            title=title_for_class(cls),
            detail=str(exc),
            instance=instance,
        )
        return Response(body, status=exc.status_code, content_type=CONTENT_TYPE)
    if isinstance(exc, DataError):  # e.g. a NUL byte or an out-of-range number in a lookup
        exc = exceptions.ValidationError(
            "The input holds characters or values the store cannot keep (such as NUL bytes)."
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    if isinstance(exc, exceptions.ValidationError):
        errors = _pointer_errors(exc.detail)
        detail = "; ".join(
            (e["pointer"].removeprefix("#/") + ": " if e["pointer"] != "#" else "") + e["detail"]
            for e in errors[:5]
        )
        body = problem_body(
            status_code=400,
            code="invalid",
            title=PROBLEMS["invalid"][1],
            detail=detail or "The input is not valid.",
            instance=instance,
        )
        body["errors"] = errors
        return Response(body, status=400, content_type=CONTENT_TYPE)
    if isinstance(exc, exceptions.APIException):
        if isinstance(exc, exceptions.PermissionDenied):
            code = exc.get_codes() if isinstance(exc.get_codes(), str) else "permission_denied"
            if code not in PROBLEMS:
                code = "permission_denied"
        else:
            code = next((c for klass, c in _DRF_CODES.items() if isinstance(exc, klass)), "invalid")
        status_code = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        title = PROBLEMS.get(code, (status_code, "Error"))[1]
        body = problem_body(
            status_code=status_code, code=code, title=title, detail=str(detail), instance=instance
        )
        return Response(body, status=status_code, content_type=CONTENT_TYPE, headers=headers)
    logger.exception("Unhandled API error at %s", instance)
    body = problem_body(
        status_code=500,
        code="server_error",
        title=PROBLEMS["server_error"][1],
        detail="Something went wrong on our side; it has been logged.",
        instance=instance,
    )
    return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR, content_type=CONTENT_TYPE)


@csrf_exempt  # any method reaches it; there is nothing to protect in a 404
def not_found_view(request, *args, **kwargs):
    """Unknown paths under /api/ answer with a problem document, not the HTML 404 page."""
    body = problem_body(
        status_code=404,
        code="not_found",
        title=PROBLEMS["not_found"][1],
        detail="There is no such API endpoint. See /api/docs/.",
        instance=request.path,
    )
    return JsonResponse(body, status=404, content_type=CONTENT_TYPE)


def problem_types_view(request, code: str | None = None):
    """``/api/problems/`` lists every problem code; ``/api/problems/<code>`` describes one."""
    problems = all_problems()
    if code is None:
        data = [
            {"code": c, "status": s, "title": t, "type": problem_type(c)}
            for c, (s, t) in sorted(problems.items())
        ]
        return JsonResponse(data, safe=False)
    if code not in problems:
        return not_found_view(request)
    s, t = problems[code]
    return JsonResponse({"code": code, "status": s, "title": t, "type": problem_type(code)})
