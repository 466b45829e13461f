"""API representations of suppliers and purchase orders, and the inputs of PO actions."""

from __future__ import annotations

from rest_framework import serializers

from suppliers.models import PurchaseOrder, PurchaseOrderLine, Supplier


class SupplierSerializer(serializers.ModelSerializer):
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


class PurchaseOrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False, allow_null=True)
    expected_date = serializers.DateField(required=False, allow_null=True)


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier = serializers.SlugRelatedField(slug_field="code", queryset=Supplier.objects.filter(active=True))
    warehouse = serializers.CharField(max_length=20)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    lines = PurchaseOrderLineInputSerializer(many=True, allow_empty=False)


class ReceiptLineInputSerializer(serializers.Serializer):
    line_id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False, allow_null=True)


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiptLineInputSerializer(many=True, allow_empty=False)
    delivery_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class ConfirmedDateSerializer(serializers.Serializer):
    line_id = serializers.IntegerField()
    confirmed_date = serializers.DateField()


class AcknowledgeSerializer(serializers.Serializer):
    lines = ConfirmedDateSerializer(many=True, required=False, default=list)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)
