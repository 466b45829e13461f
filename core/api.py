"""Shared REST API pieces: permissions, pagination, error format, router registration."""

from __future__ import annotations

import importlib
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.exceptions import DomainError


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions, with `view_*` required for reads too."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class Pagination(PageNumberPagination):
    """Page-number pagination without COUNT(*): one extra row tells whether a next page exists."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        try:
            self.page_number = max(1, int(request.query_params.get(self.page_query_param, 1)))
        except (TypeError, ValueError) as exc:
            raise exceptions.ValidationError({"page": ["A positive whole number is required."]}) from exc
        offset = (self.page_number - 1) * page_size
        rows = list(queryset[offset : offset + page_size + 1])
        self.has_next = len(rows) > page_size
        self.request = request
        return rows[:page_size]

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

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [("next", self.get_next_link()), ("previous", self.get_previous_link()), ("results", data)]
            )
        )

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


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Domain errors become {"detail", "code", "field"?} with their status; others as DRF does."""
    from rest_framework.views import exception_handler as drf_exception_handler  # import cycle

    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)


def register_all(router: Any, extra_urls: list) -> None:
    """Let every domain app with an `api` module add its routes (`register(router, urls)`)."""
    for app_label in ("inventory", "orders", "suppliers", "logistics", "analytics", "integrations"):
        if app_label not in settings.INSTALLED_APPS:
            continue
        try:
            module = importlib.import_module(f"{app_label}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_label}.api":
                raise
            continue
        module.register(router, extra_urls)
