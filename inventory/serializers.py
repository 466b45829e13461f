"""API shapes for products, warehouses, stock levels and stock adjustments.

Also the strict JSON field types the whole API uses (orders imports them: inventory is the
floor every app may import); the error format is core.api's. Serializers only check the *shape* of
input; business rules are the services' (their DomainError becomes a 400/409 answer).
"""

from __future__ import annotations

import math
from typing import Any

from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import exception_handler as api_exception_handler
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.services import MAX_QUANTITY


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


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": _("A string is required.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": _("true or false is required.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class MoneyField(serializers.DecimalField):
    """A non-negative amount with two decimals, given as a JSON string ("19.90") or number."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


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


# --- products, warehouses ---------------------------------------------------------------------
class ProductSerializer(serializers.ModelSerializer):
    sku = StrictCharField(max_length=64)
    name = StrictCharField(max_length=200)
    active = StrictBooleanField(required=False)

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "gtin", "unit", "weight_kg", "length_cm", "width_cm", "height_cm",
            "list_price", "low_stock_threshold", "active", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_sku(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(_("A SKU is required."))
        others = Product.objects.filter(sku=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(_("A product with this SKU already exists."), code="unique")
        return value

    def validate_gtin(self, value: str) -> str:
        if not value:
            return value
        others = Product.objects.filter(gtin=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(_("A product with this GTIN already exists."), code="unique")
        return value


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = [
            "id", "code", "name", "address_line1", "city", "postal_code", "country", "latitude", "longitude",
            "priority", "handling_days", "active",
        ]
        read_only_fields = fields


# --- stock ------------------------------------------------------------------------------------
class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = ["sku", "warehouse", "on_hand", "reserved", "available", "updated_at"]
        read_only_fields = fields


class StockMovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = StockMovement
        fields = ["id", "sku", "warehouse", "kind", "quantity", "balance_after", "reason", "reference", "created_at"]
        read_only_fields = fields


class StockAdjustmentSerializer(serializers.Serializer):
    """Input of POST /api/v1/stock/adjustments/: a signed change of on-hand with a reason."""

    sku = StrictCharField(max_length=64)
    warehouse = StrictCharField(max_length=20, help_text=_("Warehouse code."))
    quantity = StrictIntegerField(
        min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY, help_text=_("Signed change of on-hand units (not zero).")
    )
    reason = StrictCharField(max_length=255)
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")

    def validate_quantity(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError(_("Quantity must not be zero."), code="zero")
        return value


class StockAdjustmentResultSerializer(serializers.Serializer):
    """Answer of a stock adjustment: the ledger row written and the stock level after it."""

    movement = StockMovementSerializer()
    level = StockLevelSerializer()
