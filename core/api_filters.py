"""The API's query filters: django-filter, strict about values it would silently ignore.

django-filter skips a filter whose value it cannot read — `?active=maybe`, `?created_after=`,
`?customer=` list everything, as if the parameter were absent — while the schema says the
parameter is a boolean, a date, an id. Here such a value is a 400 naming the parameter.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from core.api import MAX_ID

# The spellings django-filter's BooleanFilter (a NullBooleanField) reads.
_BOOLEANS = {"true", "True", "1", "false", "False", "0"}
_ID = re.compile(r"[0-9]{1,18}")


class FilterBackend(filters.DjangoFilterBackend):
    """DjangoFilterBackend (settings.REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"]) that refuses a
    filter parameter whose value its filter would ignore: a boolean other than true/false/1/0,
    an empty value for anything but text."""

    def get_filterset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            errors = _ignored_values(filterset.form, request.query_params)
            if errors:
                raise ValidationError(errors)
        return filterset


def _ignored_values(form: forms.Form, query: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, field in form.fields.items():
        suffixes = getattr(field.widget, "suffixes", None)
        for parameter in [f"{name}_{suffix}" if suffix else name for suffix in suffixes] if suffixes else [name]:
            for value in query.getlist(parameter):
                if isinstance(field, forms.NullBooleanField) and value not in _BOOLEANS:
                    errors[parameter] = [_("true or false is required.")]
                elif not isinstance(field, forms.CharField) and not value.strip():
                    errors[parameter] = [_("A value is required (leave the parameter out to not filter).")]
    return errors


class IdField(forms.Field):
    default_error_messages = {"invalid": gettext_lazy("An id (a whole number of at most 18 digits) is required.")}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if not _ID.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    """Filter on an id: 0 to MAX_ID, digits only (a larger number would not fit the column)."""

    field_class = IdField
