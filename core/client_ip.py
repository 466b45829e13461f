"""The client's IP address for lockouts (django-axes) — also behind reverse proxies.

Directly exposed, it is REMOTE_ADDR. Behind TRUSTED_PROXY_COUNT proxies that each append the
address they saw to X-Forwarded-For, it is the entry that many places from the right: entries
further left were written by the client and prove nothing (anyone can send
`X-Forwarded-For: 1.2.3.4` to dodge a per-IP lockout). A header too short for the configured
proxies (a request that bypassed them) or not an IP address falls back to REMOTE_ADDR.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
