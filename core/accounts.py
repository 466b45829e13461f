"""Account views that differ from django.contrib.auth's: password reset, rate-limited.

Requests for reset e-mails are limited per client address (core.client_ip, so behind
TRUSTED_PROXY_COUNT proxies the address the outermost one saw) and per e-mail address entered,
PASSWORD_RESET_RATE_LIMIT per hour each. Over either limit the answer is 429 with a page saying
so, whether or not an account has that address; under it, Django's view answers as always
("if an account exists, we sent an e-mail"), so neither answer tells which addresses exist.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import PasswordResetView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.client_ip import client_ip
from core.ratelimit import over_limit

WINDOW_SECONDS = 3600


class RateLimitedPasswordResetView(PasswordResetView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        limit = settings.PASSWORD_RESET_RATE_LIMIT
        # Both counters count every attempt: a client rotating e-mails still meets its IP limit.
        limited = over_limit(scope="password_reset.ip", identity=client_ip(request) or "",
                             limit=limit, window_seconds=WINDOW_SECONDS)
        email = request.POST.get("email", "").strip().lower()
        if email:
            limited = over_limit(scope="password_reset.email", identity=email,
                                 limit=limit, window_seconds=WINDOW_SECONDS) or limited
        if limited:
            response = render(request, "registration/password_reset_limited.html", status=429)
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        return super().post(request, *args, **kwargs)


password_reset = RateLimitedPasswordResetView.as_view()
