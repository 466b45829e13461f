"""Pages that HTMX may ask for in part: the list pages answer their results partial to an HTMX
request and the whole page otherwise (history restores and boosted links get the whole page)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def render_page(request: HttpRequest, full: str, partial: str, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
    """`partial` for an HTMX request, else `full`; the answer varies on HX-Request (caches)."""
    response = render(request, partial if is_partial(request) else full, context, **kwargs)
    patch_vary_headers(response, ("HX-Request",))
    return response
