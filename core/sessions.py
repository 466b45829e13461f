"""Browser sessions end after SESSION_IDLE_TIMEOUT seconds without a request.

Django caps a session's life (SESSION_COOKIE_AGE, 14 days) but not its idle time. The last
request's time is kept in the session, rewritten at most once per ACTIVITY_RESOLUTION_SECONDS,
so a busy user's session row is written about once a minute, not on every request (Django
saves a session only when it changed). A request after the idle time is served signed out:
portal views then redirect to the login page. API clients with tokens have no session.

Not django-session-timeout / django-auto-logout: both save the session on every request (a
database write per page view and per HTMX poll with sessions in PostgreSQL), and neither has
had a release since 2022.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from core.middleware import database_error_response

LAST_ACTIVITY_KEY = "scoms_last_activity"
ACTIVITY_RESOLUTION_SECONDS = 60


class IdleSessionTimeoutMiddleware:
    """After AuthenticationMiddleware: signs out a session idle longer than SESSION_IDLE_TIMEOUT."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            self.check_idle(request)
        except (OperationalError, InterfaceError) as exc:
            # Loading the session needs the database; outside the view, DatabaseUnavailableMiddleware
            # would not see the error, so answer its 503 here rather than a 500.
            return database_error_response(request, exc)
        return self.get_response(request)

    @staticmethod
    def check_idle(request: HttpRequest) -> None:
        if not request.COOKIES.get(settings.SESSION_COOKIE_NAME) or SESSION_KEY not in request.session:
            return  # no signed-in session (API tokens, anonymous visitors): nothing to load or time
        now = int(time.time())
        last = request.session.get(LAST_ACTIVITY_KEY)
        if isinstance(last, int) and now - last > settings.SESSION_IDLE_TIMEOUT:
            logout(request)  # flushes the session; the view sees an anonymous user
        elif not isinstance(last, int) or now - last >= ACTIVITY_RESOLUTION_SECONDS:
            request.session[LAST_ACTIVITY_KEY] = now
