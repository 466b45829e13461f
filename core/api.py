"""Shared REST API pieces: permissions, the JSON parser, pagination, the error format.

Every API error is `{"detail", "code", "field"?, "details"?}` (core.exceptions.error_body):
domain errors as raised, DRF's own (401, 403, 404, 405, 406, 415, 429…) with DRF's code, and
validation errors naming the first offending field ("lines[0].quantity"; a malformed body is
"body"). Errors outside DRF get the same shape from core.middleware.ApiErrorShapeMiddleware.
"""

from __future__ import annotations

import codecs
import re
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.exceptions import DomainError, error_body
from core.input_guard import PARSED_JSON, InputRejected, parse_json_text

# PostgreSQL's LIMIT/OFFSET are bigints: a page whose offset does not fit cannot exist.
_MAX_OFFSET = 2**63 - 1
_PAGE_NUMBER = re.compile(r"[0-9]{1,19}")

# Ids in API paths: 1 to 18 digits, which fits a bigint — a longer id is a 404, not a database error.
ID_PATTERN = r"\d{1,18}"
MAX_ID = 10**18 - 1
_DIGITS = re.compile(r"[0-9]+")


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions, with `view_*` required for reads too."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the input guard's rules (core.input_guard.parse_json_text).

    InputGuardMiddleware has already parsed and checked the body of every JSON request and kept
    the result on the request: that is returned. Without the middleware (APIRequestFactory) the
    body is parsed here under the same rules.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parser_context = parser_context or {}
        django_request = getattr(parser_context.get("request"), "_request", None)
        if hasattr(django_request, PARSED_JSON):
            return getattr(django_request, PARSED_JSON)
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(stream.read(), encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(_("The body is not valid %(encoding)s.") % {"encoding": encoding}) from exc
        try:
            return parse_json_text(text)
        except InputRejected as rejected:
            raise exceptions.ParseError(rejected.detail, code=rejected.code) from None
        except ValueError as exc:
            raise exceptions.ParseError(str(exc)) from exc


class Pagination(PageNumberPagination):
    """Page-number pagination without COUNT(*): one extra row tells whether a next page exists.

    `page` must be a whole number from 1 (else 400 naming it); a page whose offset PostgreSQL
    cannot even express (past 2⁶³ rows) is 404 "Invalid page." like DRF's own pagination.
    """

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        self.page_number = self._page_number(request, page_size)
        offset = (self.page_number - 1) * page_size
        rows = list(queryset[offset : offset + page_size + 1])
        self.has_next = len(rows) > page_size
        self.request = request
        return rows[:page_size]

    def _page_number(self, request: Any, page_size: int) -> int:
        raw = request.query_params.get(self.page_query_param, "1").strip()
        if not _PAGE_NUMBER.fullmatch(raw):
            if raw.isascii() and raw.isdigit():  # only too many digits
                raise exceptions.NotFound(self.invalid_page_message)
            raise exceptions.ValidationError({self.page_query_param: [_("A positive whole number is required.")]})
        number = int(raw)
        if number < 1:
            raise exceptions.ValidationError({self.page_query_param: [_("A positive whole number is required.")]})
        if (number - 1) * page_size + page_size + 1 > _MAX_OFFSET:
            raise exceptions.NotFound(self.invalid_page_message)
        return number

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        from rest_framework.utils.urls import replace_query_param

        return replace_query_param(
            self.request.build_absolute_uri(), self.page_query_param, self.page_number + 1
        )

    def get_previous_link(self) -> str | None:
        if self.page_number <= 1:
            return None
        from rest_framework.utils.urls import replace_query_param

        return replace_query_param(
            self.request.build_absolute_uri(), self.page_query_param, self.page_number - 1
        )

    def get_page_size(self, request: Any) -> int:
        """`page_size` from 1 up (more than max_page_size gives max_page_size); anything else is a 400."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not _DIGITS.fullmatch(raw) or int(raw) < 1:
            raise exceptions.ValidationError({self.page_size_query_param: ["A positive whole number is required."]})
        return min(int(raw), self.max_page_size)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [("next", self.get_next_link()), ("previous", self.get_previous_link()), ("results", data)]
            )
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = f"Results per page (default {self.page_size}, at most {self.max_page_size})."
        return parameters

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }


def _first_error(detail: Any, path: str = "") -> tuple[str, str, str]:
    """(field path like "lines[0].quantity", message, code) of the first error in DRF's tree."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", api_settings.NON_FIELD_ERRORS_KEY):
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            if value:
                return _first_error(value, sub)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                if value:
                    return _first_error(value, f"{path}[{index}]")
            else:
                return path, str(value), getattr(value, "code", "invalid") or "invalid"
    elif detail:
        return path, str(detail), getattr(detail, "code", "invalid") or "invalid"
    return path, _("Invalid input."), "invalid"


def validation_error_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    """A ValidationError as the one shape: the first error names its field; `details` has all."""
    field, message, code = _first_error(exc.detail)
    return error_body(message, code=code, field=field or "body", details=exc.detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error a DRF view raises, as {"detail", "code", "field"?, "details"?} with its status.

    Domain errors as raised; validation errors name the first bad field; a malformed body is a
    400 on field "body"; DRF's own errors (401, 403, 404, 405, 406, 415, 429) keep their status,
    headers (WWW-Authenticate, Retry-After) and code. Anything else is left to Django (None):
    a 500 that handler500 / ApiErrorShapeMiddleware answer in the same shape.
    """
    from rest_framework.views import exception_handler as drf_exception_handler  # import cycle

    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ParseError):
        code = str(exc.get_codes())
        detail = str(exc.detail)
        if code == exceptions.ParseError.default_code:  # a syntax error: say what was expected
            code, detail = "invalid", _("The request body is not valid JSON: %(error)s") % {"error": detail}
        return Response(error_body(detail, code=code, field="body"), status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return Response(validation_error_body(exc), status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = error_body(_first_error(exc.detail)[1], code=code)
    return response

