"""API shapes for products, warehouses, stock levels and stock adjustments.

Strict JSON types from core.serializers; serializers only check the *shape* of input, business
rules are the services' (their DomainError becomes a 400/409 answer).
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.limits import MAX_QUANTITY
from core.serializers import StrictCharField, StrictIntegerField, StrictModelSerializer
from inventory.models import Product, StockLevel, StockMovement, Warehouse, validate_gtin


# --- products, warehouses ---------------------------------------------------------------------
class ProductSerializer(StrictModelSerializer):
    """A product: read by everyone with inventory access, created and changed by the Warehouse role."""

    sku = StrictCharField(max_length=64)
    name = StrictCharField(max_length=200)
    # The model's validate_gtin checks the digit; the pattern states the lengths in the schema.
    gtin = StrictCharField(
        max_length=14, required=False, allow_blank=True,
        validators=[RegexValidator(r"^([0-9]{8}|[0-9]{12,14})$", _("A GTIN has 8, 12, 13 or 14 digits.")),
                    validate_gtin],
    )

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
