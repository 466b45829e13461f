"""Personal data is never stored by browsers or shared caches: one rule, for every response.

A response gets `Cache-Control: no-store, private` when the request carried a session cookie (a
signed-in user: every portal and admin page, exports, session API calls) or its path is an API or tracking path
(token clients; the public tracking page shows a customer's address and order). A view that set
Cache-Control itself has decided (e.g. opted into caching, or `never_cache`) and is left alone.
Static files never reach this middleware (WhiteNoise answers them first); /healthz sets its own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

NO_STORE = "no-store, private"
# Paths whose answers carry personal data whoever asks (API tokens are not sessions).
PERSONAL_PATH_PREFIXES = ("/api/", "/track/")


def carries_personal_data(request: HttpRequest) -> bool:
    # A session cookie stands for "signed in" (a few anonymous answers get no-store too, which
    # costs nothing): asking request.user would load the session — a query, and a 500 instead
    # of the 503 when the database is gone.
    return bool(request.COOKIES.get(settings.SESSION_COOKIE_NAME)) or request.path.startswith(PERSONAL_PATH_PREFIXES)


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and carries_personal_data(request):
            response["Cache-Control"] = NO_STORE
        return response
