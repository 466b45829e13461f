"""Refuse hostile input once, at the edge, before any view, form, admin page or API parser runs.

Every request passes `InputGuardMiddleware` (near the top of settings.MIDDLEWARE), which answers
400 — or 413 for a body over the size limit — when it finds:

- text PostgreSQL cannot store or that is not text at all: a NUL character, bytes that are not
  valid UTF-8 (or the declared charset), a lone UTF-16 surrogate — in the path, the query string,
  header values (cookies, Authorization, Idempotency-Key…), form fields (names and values), and
  JSON bodies (raw, or escaped as `\\u0000` / `\\ud800`);
- JSON nested deeper than `MAX_JSON_DEPTH` levels (Python's parser recurses once per level and
  ends in RecursionError). A JSON body is parsed here once and the result kept on the request
  (`PARSED_JSON`), which the API's parser (core.api.JSONParser) returns instead of parsing again;
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE, refused from its Content-Length without reading it
  (multipart uploads aside: Django streams their files to disk; their other fields still count),
  and a query string or form with more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields.

Nothing is rewritten: a request goes on exactly as it came (webhooks verify signatures over the
raw body) or is refused. Refusals are JSON in the one error shape for API clients and a small
page for people (core.middleware.error_response), built without touching the database.
Serializers and forms still bound each field's own length and range; this is only the floor.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from core.middleware import error_response

# Deeper than any payload of ours (an order is 3 levels), far below Python's recursion limit.
MAX_JSON_DEPTH = 64

# Lone UTF-16 surrogates: what a JSON escape such as \ud800 decodes to when no pair follows.
_SURROGATE = re.compile("[\ud800-\udfff]")
# The parsed body of a JSON request, kept on the request so the API parser does not parse it again.
PARSED_JSON = "_scoms_parsed_json"


class InputRejected(Exception):
    """The request carries input no part of SCOMS should see; `field` says where."""

    def __init__(self, detail: str, *, code: str = "invalid_text", field: str | None = None, status: int = 400) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.field = field
        self.status = status


# --- text ------------------------------------------------------------------------------------
def text_problem(text: str) -> str | None:
    """Why `text` may not be stored as PostgreSQL text (None when it may)."""
    if "\x00" in text:
        return _("Text may not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _("Text may not contain lone surrogate characters.")
    return None


def decoded(raw: bytes, *, encoding: str = "utf-8", field: str | None = None) -> str:
    """`raw` decoded strictly (as Django would, but without replacing bad bytes), or InputRejected."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise InputRejected(_("Text must be valid %(encoding)s.") % {"encoding": encoding.upper()}, field=field) from None


def _wsgi_bytes(value: str) -> bytes:
    """The raw bytes of a WSGI environ string (bytes as latin-1, as Django reads QUERY_STRING)."""
    try:
        return value.encode("iso-8859-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def _charset(request: HttpRequest) -> str:
    charset = request.content_params.get("charset") or "utf-8"
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"  # Django ignores an unknown charset the same way


# --- urlencoded (query strings and form bodies) ----------------------------------------------
def check_urlencoded(raw: bytes, *, encoding: str, where: str) -> None:
    """Every name and value of `a=1&b=2` is valid text; too many fields is refused too.

    `where` ("query", "form") is named when a field's name itself is bad.
    """
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if limit is not None and raw.count(b"&") + 1 > limit:
        raise InputRejected(
            _("More than %(limit)s fields.") % {"limit": limit}, code="too_many_fields", field=where
        )
    whole = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        if text_problem(whole.decode(encoding)) is None:
            return  # the usual case: one pass over the whole string
    except UnicodeDecodeError:
        pass
    # Something is wrong: find the field to name. A bad name is named by `where`.
    for pair in raw.split(b"&"):
        name_raw, _separator, value_raw = pair.partition(b"=")
        name = decoded(unquote_to_bytes(name_raw.replace(b"+", b" ")), encoding=encoding, field=where)
        problem = text_problem(name)
        if problem:
            raise InputRejected(problem, field=where)
        value = decoded(unquote_to_bytes(value_raw.replace(b"+", b" ")), encoding=encoding, field=name)
        problem = text_problem(value)
        if problem:
            raise InputRejected(problem, field=name)


# --- JSON ------------------------------------------------------------------------------------
def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _too_deep() -> InputRejected:
    return InputRejected(
        _("JSON may nest at most %(limit)s levels of arrays and objects.") % {"limit": MAX_JSON_DEPTH},
        code="too_deep",
        field="body",
    )


def _check_json_string(text: str) -> None:
    if "\x00" in text:
        raise InputRejected(_("Text may not contain NUL characters."), field="body")
    if not text.isascii() and _SURROGATE.search(text):
        raise InputRejected(_("Text may not contain lone surrogate characters."), field="body")


def parse_json_text(text: str) -> Any:
    """Parse JSON `text` (already decoded), refusing what may not go further.

    InputRejected for a NUL or lone surrogate in any string or key (raw or escaped as \\u0000 /
    \\ud800) and for arrays/objects nested deeper than MAX_JSON_DEPTH; ValueError when `text` is
    not JSON at all (strict: no NaN or Infinity). The parsed document is walked without recursion;
    Python's own parser recurses once per level and ends in RecursionError far deeper than our
    limit, which is refused the same way.
    """
    _check_json_string(text)  # a raw NUL anywhere (not JSON either, but named for what it is)
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise _too_deep() from None
    if isinstance(document, str):
        _check_json_string(document)
    containers: list[tuple[Any, int]] = [(document, 1)] if isinstance(document, dict | list) else []
    while containers:
        node, depth = containers.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            for key in node:
                _check_json_string(key)
            children = node.values()
        else:
            children = node
        for child in children:  # scalars are judged here, without a trip through the stack
            if isinstance(child, str):
                _check_json_string(child)
            elif isinstance(child, dict | list):
                containers.append((child, depth + 1))
    return document


# --- the request -----------------------------------------------------------------------------
def _check_values(pairs: Iterable[tuple[str, Iterable[str]]], *, where: str) -> None:
    for name, values in pairs:
        problem = text_problem(name)
        if problem:
            raise InputRejected(problem, field=where)
        for value in values:
            problem = text_problem(value)
            if problem:
                raise InputRejected(problem, field=name)


def _check_headers(request: HttpRequest) -> None:
    for key, value in request.META.items():
        is_header = key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
        if is_header and isinstance(value, str) and "\x00" in value:
            header = key.removeprefix("HTTP_").replace("_", "-").title()
            raise InputRejected(_("Header values may not contain NUL characters."), field=header)


def _content_length(request: HttpRequest) -> int:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    if not raw.isascii() or not raw.isdigit():
        raise InputRejected(_("Content-Length must be a whole number."), code="invalid", field="Content-Length")
    return int(raw)


def _body_too_large() -> InputRejected:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return InputRejected(
        _("The request body is larger than the %(limit)s MB allowed.") % {"limit": f"{limit_mb:g}"},
        code="too_large",
        field="body",
        status=413,
    )


def _check_body(request: HttpRequest) -> None:
    length = _content_length(request)
    if length == 0:
        return
    content_type = request.content_type or ""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if content_type == "multipart/form-data":
        _check_multipart(request, keep_raw=limit is None or length <= limit)
        return
    if limit is not None and length > limit:
        raise _body_too_large()
    if content_type == "application/x-www-form-urlencoded":
        check_urlencoded(request.body, encoding=_charset(request), where="form")
    elif content_type == "application/json" or content_type.endswith("+json"):
        text = decoded(request.body, encoding=_charset(request), field="body")
        with contextlib.suppress(ValueError):  # not JSON at all: the view's parser says so in its own words
            setattr(request, PARSED_JSON, parse_json_text(text))


def _check_multipart(request: HttpRequest, *, keep_raw: bool) -> None:
    """Field names and values of a multipart POST.

    A body within DATA_UPLOAD_MAX_MEMORY_SIZE is read first, so Django parses a copy and the raw
    body stays readable (DRF then answers 415 for a form sent to the JSON-only API). A larger one
    is parsed as it streams in, its files going to disk; a view can then no longer swap
    `request.upload_handlers` — CsrfViewMiddleware reads request.POST for such posts anyway.
    """
    if request.method != "POST":
        return  # Django parses multipart for POST only; the API takes JSON alone
    try:
        if keep_raw:
            request.body  # noqa: B018 — cached on the request; request.POST is parsed from the copy
        _check_values(request.POST.lists(), where="form")
        # File names need no check: Django drops their non-printable characters (NUL too).
        _check_values(((name, ()) for name in request.FILES), where="form")
    except RequestDataTooBig:
        raise _body_too_large() from None
    except (TooManyFieldsSent, TooManyFilesSent) as exc:
        raise InputRejected(str(exc), code="too_many_fields", field="form") from None
    except MultiPartParserError as exc:
        raise InputRejected(
            _("The multipart body is malformed: %(error)s") % {"error": exc}, code="invalid", field="body"
        ) from None


def check_request(request: HttpRequest) -> None:
    """Raise InputRejected when any part of `request` is hostile (see the module docstring)."""
    _check_headers(request)
    problem = text_problem(request.path_info)
    if problem:
        raise InputRejected(problem, field="path")
    if "%" in request.path_info:
        # Django re-percent-encodes path bytes that are not UTF-8 (/track/%ED%A0%80/), which also
        # reads a literal "%ED%A0%80" (sent as %25ED…): neither is a path of ours.
        problem = text_problem(decoded(unquote_to_bytes(request.path_info), field="path"))
        if problem:
            raise InputRejected(problem, field="path")
    query = _wsgi_bytes(request.META.get("QUERY_STRING", ""))
    if query:
        check_urlencoded(query, encoding="utf-8", where="query")
    _check_body(request)


class InputGuardMiddleware:
    """Answer 400/413 for hostile input (see the module docstring) before anything else reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_request(request)
        except InputRejected as rejected:
            return error_response(
                request, status=rejected.status, detail=rejected.detail, code=rejected.code, field=rejected.field
            )
        return self.get_response(request)
