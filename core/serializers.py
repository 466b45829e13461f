"""The API's strict JSON field types and serializer base, shared by every app's serializers.

"2" is not a number, true is not 1, 1.5 is not a whole number; amounts are decimal strings sized
by their column; currencies and countries are ISO codes. Serializers only check the *shape* of
input; business rules are the services' (their DomainError becomes a 400/409 answer). The error
format is core.api's.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import exception_handler as api_exception_handler
from core.validators import COUNTRY_CODES, CURRENCY_CODES, validate_country_code, validate_currency_code


# --- strict JSON types: "2" is not a number, true is not 1, 1.5 is not a whole number ----------
class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": _("A whole number is required.")}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.NUMBER)
class StrictFloatField(serializers.FloatField):
    default_error_messages = {"invalid": _("A number is required.")}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class _StrictText:
    """Only a JSON string, and max_length counts what was sent (before surrounding whitespace
    is trimmed), as the schema's maxLength does."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        limit = self.max_length  # type: ignore[attr-defined]
        if limit is not None and len(data) > limit:
            self.fail("max_length", max_length=limit)  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(_StrictText, serializers.CharField):
    default_error_messages = {"invalid": _("A string is required.")}


class StrictEmailField(_StrictText, serializers.EmailField):
    default_error_messages = {"invalid": _("Enter a valid email address.")}


class StrictSlugField(_StrictText, serializers.SlugField):
    pass


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": _("true or false is required.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class DecimalStringField(serializers.DecimalField):
    """An amount or a measure as a JSON string, the way the API writes them ("19.90").

    At most max_digits - decimal_places digits before the point and decimal_places after it,
    so the value fits its column; not negative unless `min_value` is. The schema states the same
    rule as a pattern. A JSON number is refused: a float would round (0.1 + 0.2).
    """

    default_error_messages = {
        "invalid": _("A number written as a string is required, e.g. \"19.90\"; at most %(whole)s digits "
                     "before the point and %(places)s after it."),
    }

    def __init__(self, *, max_digits: int, decimal_places: int, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)
        sign = "" if self.min_value is not None and self.min_value >= 0 else "-?"
        whole = max_digits - decimal_places
        self.pattern = rf"^{sign}[0-9]{{1,{whole}}}(\.[0-9]{{1,{decimal_places}}})?$"
        self._regex = re.compile(self.pattern)

    @classmethod
    def for_column(cls, model_field: Any, **kwargs: Any) -> DecimalStringField:
        """A field sized like a model's DecimalField."""
        return cls(max_digits=model_field.max_digits, decimal_places=model_field.decimal_places, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not self._regex.fullmatch(data):
            self.fail("invalid", whole=self.max_digits - self.decimal_places, places=self.decimal_places)
        return super().to_internal_value(data)


class DecimalStringFieldSchema(OpenApiSerializerFieldExtension):
    target_class = DecimalStringField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {"type": "string", "format": "decimal", "pattern": self.target.pattern}


class CodeField(serializers.ChoiceField):
    """One of a standard's codes, as a JSON string in capitals (an enum in the schema)."""

    codes: Any = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self.codes, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class CurrencyField(CodeField):
    """An ISO 4217 code."""

    codes = CURRENCY_CODES
    default_error_messages = {"invalid_choice": _("%(input)s is not an ISO 4217 currency code such as CNY or USD.")}


class CountryField(CodeField):
    """An ISO 3166-1 alpha-2 code."""

    codes = COUNTRY_CODES
    default_error_messages = {"invalid_choice": _("%(input)s is not an ISO 3166-1 country code such as CN or DE.")}


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose writable fields take only their own JSON type (the strict fields
    above), decimals as strings sized by their column, and currencies and countries as ISO codes."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.EmailField: StrictEmailField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
        models.DecimalField: DecimalStringField,
    }
    _iso_fields = ((validate_currency_code, CurrencyField), (validate_country_code, CountryField))

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        for validator, iso_field in self._iso_fields:
            if validator in model_field.validators:
                keep = ("required", "read_only", "label", "help_text", "allow_null")
                return iso_field, {name: value for name, value in kwargs.items() if name in keep}
        return field_class, kwargs


# --- errors: one field named in the answer (the shape lives in core.api) ------------------------
class FieldErrorsMixin:
    """For API views: answers of 400 name the offending field like the domain errors do.

    core.api.exception_handler is now the default for every view; the mixin stays so the views
    say so explicitly."""

    def get_exception_handler(self) -> Any:
        return api_exception_handler


def integrity_error_field(exc: IntegrityError, fields: dict[str, str]) -> str | None:
    """The field whose unique constraint (name → field) a database error reports."""
    text = str(exc)
    return next((field for constraint, field in fields.items() if constraint in text), None)
