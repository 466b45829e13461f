"""Answer a lost database with a clean 503 (and Retry-After) instead of a 500 traceback page.

PostgreSQL restarting, failing over or unreachable surfaces in a request as
`django.db.OperationalError` / `InterfaceError`. Nothing was half-written (every service owns
its transaction, and PostgreSQL rolls back what a dead connection left open), so the honest
answer is "try again shortly": `503 Service Unavailable` with `Retry-After`, JSON for API clients
(`{"detail", "code": "database_unavailable"}`), a small page for people. The page is rendered
without the request, so no context processor touches the database that just failed.

The broken connection is closed here, so the worker's next request opens a fresh one as soon
as the database is back (no restart needed). Contention errors that are also OperationalError
(deadlock, lock or statement timeout, serialization failure) get a 503 too — the request may
simply be retried — but with code `database_busy`, and are logged as errors: one of them
reaching a view means a retry loop is missing somewhere.

Also here: `error_response` (the one error answer: JSON in the one shape for API clients, a small
request-free page for people) and `ApiErrorShapeMiddleware`, which makes sure every `/api/` error
is JSON in that shape whatever produced it — Django's 404 for an unknown URL, a 400 for a
suspicious request, a 500, and their DEBUG pages, which list settings, SQL and URL patterns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import error_body

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_SECONDS = 5
# SQLSTATEs that mean "the server or the connection is gone", besides class 08 (connection
# exception): admin/crash shutdown, cannot connect now (starting up, recovery), too many clients.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean the database (or the connection to it) is gone.

    psycopg errors raised by the client itself (connection refused, timeout, server closed
    the connection) carry no SQLSTATE; Django chains the psycopg error as `__cause__`.
    """
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES


def close_broken_connections() -> None:
    """Close every connection that saw an error, so the next use reconnects.

    No `SELECT 1` health check (`close_if_unusable_or_obsolete`): on a partitioned network it
    would hang until TCP gives up, holding the worker that should be answering 503s.
    """
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is None:
            continue
        if connection.errors_occurred or getattr(raw, "broken", False) or getattr(raw, "closed", False):
            try:
                connection.close()
            except DatabaseError:
                logger.debug("closing a broken %s connection failed", connection.alias, exc_info=True)


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(
    request: HttpRequest, *, status: int, detail: str, code: str, field: str | None = None
) -> HttpResponse:
    """An error answer without a view: JSON in the one shape for API clients, a page for people.

    The page is rendered without the request: no context processor may touch the database.
    """
    if wants_json(request):
        response: HttpResponse = JsonResponse(error_body(detail, code=code, field=field), status=status)
    else:
        page = loader.get_template("error.html").render(
            {"status": status, "title": _status_phrase(status), "detail": detail}
        )
        response = HttpResponse(page, status=status)
        # Answered before the CSP and frame middlewares when the input guard refuses a request.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'self'; frame-ancestors 'none'"
        response["X-Frame-Options"] = "DENY"
    response["Cache-Control"] = "no-store"
    return response


def database_error_response(request: HttpRequest, exception: BaseException) -> HttpResponse | None:
    """The 503 answer for OperationalError / InterfaceError (None for any other exception)."""
    if not isinstance(exception, OperationalError | InterfaceError):
        return None
    unavailable = is_database_unavailable(exception)
    if unavailable:
        close_broken_connections()
        logger.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        code = "database_unavailable"
        detail = _("The database is unavailable right now. Nothing was saved; please try again shortly.")
    else:
        logger.error("database busy during %s %s", request.method, request.path, exc_info=exception)
        code = "database_busy"
        detail = _("The database is busy right now. Nothing was saved; please try again shortly.")
    retry_after = int(getattr(settings, "DATABASE_UNAVAILABLE_RETRY_AFTER", DEFAULT_RETRY_AFTER_SECONDS))
    if not unavailable:
        retry_after = 1
    if wants_json(request):
        response: HttpResponse = JsonResponse(error_body(detail, code=code), status=503)
    else:
        # Rendered without the request: no context processor (user, navigation) may query
        # the database that just failed.
        page = loader.get_template("503.html").render({"detail": detail, "retry_after": retry_after})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """process_exception: OperationalError / InterfaceError → 503 with Retry-After."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return database_error_response(request, exception)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's SessionMiddleware, except that a database lost while the session is saved —
    after the view, where DatabaseUnavailableMiddleware no longer sees exceptions — answers the
    same 503 instead of a 500. (The view's own writes committed or rolled back before this.)"""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except (OperationalError, InterfaceError) as exc:
            answer = database_error_response(request, exc)
            assert answer is not None  # an OperationalError or InterfaceError always gets one
            return answer


# What an /api/ error that did not come out of DRF says, by status (code, detail).
_API_ERRORS = {
    400: ("bad_request", gettext_lazy("The request is malformed.")),
    403: ("permission_denied", gettext_lazy("You do not have permission to perform this action.")),
    404: ("not_found", gettext_lazy("Not found.")),
    405: ("method_not_allowed", gettext_lazy("This method is not allowed here.")),
    413: ("too_large", gettext_lazy("The request body is too large.")),
    500: ("server_error", gettext_lazy("A server error occurred. It was logged; nothing was half-saved.")),
}
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Cache-Control")


def is_json_response(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    return content_type == "application/json" or content_type.endswith("+json")


class ApiErrorShapeMiddleware:
    """Every `/api/` error answer is JSON in the one shape, whatever produced it.

    DRF views already answer so (core.api.exception_handler); this catches the rest — an unknown
    URL, a request Django refuses before the view, an unexpected exception — also under DEBUG,
    where Django would answer with its technical pages. The status and the headers a client acts
    on (Allow, Retry-After, WWW-Authenticate) are kept; the body is replaced. The exception itself
    was already logged with its traceback by Django.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith("/api/") or is_json_response(response):
            return response
        status = response.status_code
        code, detail = _API_ERRORS.get(status, (None, None))
        if code is None or detail is None:
            phrase = _status_phrase(status)
            code, detail = re.sub(r"\W+", "_", phrase.lower()).strip("_"), f"{phrase}."
        replacement = JsonResponse(error_body(detail, code=code), status=status)
        for header in _KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement
