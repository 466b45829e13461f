"""Every route of the URL configuration, for tests that must cover new pages and API routes
without being told about them (tests/test_supplier_isolation.py, tests/test_role_matrix.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def routes(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, list[str]]]:
    """(url name, regex of the whole path, names of its parameters) for every route."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        regex = prefix + str(entry.pattern.regex.pattern).lstrip("^").rstrip("$").replace("\\Z", "")
        if isinstance(entry, URLResolver):
            child_namespace = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from routes(entry, regex, child_namespace)
        elif isinstance(entry, URLPattern):
            params = list(entry.pattern.regex.groupindex)
            yield f"{namespace}{entry.name}" if entry.name else regex, regex, params


def path_for(regex: str, params: list[str], value: str) -> str | None:
    """Fill every named group with `value`; None for routes we cannot build (format suffixes…)."""
    path = regex
    for name in params:
        path = re.sub(rf"\(\?P<{re.escape(name)}>[^)]*\)", value, path)
    path = path.replace("\\.", ".").replace("\\-", "-")
    if any(ch in path for ch in "()[]*+?|\\"):
        return None
    return "/" + path
