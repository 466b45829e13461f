"""API representations of suppliers and purchase orders, and the inputs of PO actions.

Inputs are strict JSON (quantities are integers, amounts decimal strings, see
core.serializers) and bounded by core.limits; the services check the business rules.
"""

from __future__ import annotations

from rest_framework import serializers

from core.api import MAX_ID
from core.limits import MAX_NOTES_LENGTH, MAX_PURCHASE_ORDER_LINES, MAX_QUANTITY
from core.serializers import (
    DecimalStringField,
    StrictCharField,
    StrictIntegerField,
    StrictModelSerializer,
)
from core.validators import PLANNED_DATE_HELP, validate_planned_date
from suppliers.models import PurchaseOrder, PurchaseOrderLine, Supplier


class SupplierSerializer(StrictModelSerializer):
    """A supplier: its contact, ISO country and currency, payment terms and default lead time."""

    class Meta:
        model = Supplier
        fields = [
            "id", "code", "name", "contact_name", "email", "phone", "address", "country", "currency",
            "payment_terms", "default_lead_time_days", "landed_cost_percent", "active", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    promised_date = serializers.DateField(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id", "line_no", "sku", "supplier_sku", "quantity", "quantity_received", "unit_cost",
            "expected_date", "confirmed_date", "promised_date",
        ]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.code", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id", "number", "status", "source", "supplier", "warehouse", "currency", "total", "payment_terms",
            "expected_date", "sent_at", "acknowledged_at", "created_at", "updated_at", "lines",
        ]
        read_only_fields = fields


class PurchaseOrderCreatedSerializer(PurchaseOrderSerializer):
    """The answer of a create: the draft, and warnings about the supplier's delivery record."""

    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(PurchaseOrderSerializer.Meta):
        fields = [*PurchaseOrderSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


def _unit_cost() -> DecimalStringField:
    return DecimalStringField.for_column(PurchaseOrderLine._meta.get_field("unit_cost"), required=False, allow_null=True)


def _line_id() -> StrictIntegerField:
    return StrictIntegerField(min_value=0, max_value=MAX_ID)


class PurchaseOrderLineInputSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = _unit_cost()
    expected_date = serializers.DateField(
        required=False, allow_null=True, validators=[validate_planned_date], help_text=PLANNED_DATE_HELP
    )


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier = serializers.SlugRelatedField(slug_field="code", queryset=Supplier.objects.filter(active=True))
    warehouse = StrictCharField(max_length=20)
    notes = StrictCharField(max_length=MAX_NOTES_LENGTH, required=False, allow_blank=True, default="")
    lines = PurchaseOrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_PURCHASE_ORDER_LINES)


class ReceiptLineInputSerializer(serializers.Serializer):
    line_id = _line_id()
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = _unit_cost()


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiptLineInputSerializer(many=True, allow_empty=False, max_length=MAX_PURCHASE_ORDER_LINES)
    delivery_note = StrictCharField(required=False, allow_blank=True, default="", max_length=100)


class ConfirmedDateSerializer(serializers.Serializer):
    line_id = _line_id()
    confirmed_date = serializers.DateField(validators=[validate_planned_date], help_text=PLANNED_DATE_HELP)


class AcknowledgeSerializer(serializers.Serializer):
    lines = ConfirmedDateSerializer(many=True, required=False, default=list, max_length=MAX_PURCHASE_ORDER_LINES)


class CancelSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=255)
