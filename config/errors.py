"""The database-outage page: a 503 with ``Retry-After`` instead of a 500 (issue 16).

While PostgreSQL is restarting, every query raises ``OperationalError`` (or ``InterfaceError``
on a connection that died under it). That is not a bug in the page, so the shopper gets
"back in a moment" with status 503 and ``Retry-After``, which also tells load balancers and
crawlers to come back. Django's ``CONN_HEALTH_CHECKS`` drops the dead connection at the next
request, so the store recovers by itself once the database is back, without a restart.

Two places catch it: ``DatabaseUnavailableMiddleware`` for errors raised by a view, and
``server_error`` (``handler500``) for those raised by a middleware (the session saved on the
way out, for example), which Django turns into a 500 before any middleware could see them.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader

logger = logging.getLogger("agora.errors")

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def database_unavailable_response() -> HttpResponse:
    """The 503 page (static: it reads no database, no session and no context processor)."""
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def is_database_down(exc: BaseException | None) -> bool:
    """True when ``exc`` (or the error it was raised from) is a lost or refused connection."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DATABASE_DOWN):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


class DatabaseUnavailableMiddleware:
    """Turns a database outage during a view into the 503 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_down(exception):
            logger.warning(
                "database unavailable during %s %s: %s", request.method, request.path, exception
            )
            return database_unavailable_response()
        return None


def server_error(request):
    """``handler500``: the 503 page for a database outage, else the store's 500 page."""
    if is_database_down(sys.exc_info()[1]):
        return database_unavailable_response()
    return HttpResponseServerError(loader.render_to_string("500.html"))
