"""API shapes for customers and orders.

Input serializers check the JSON shape and types strictly (a quantity of "2", 1.5 or true is
refused, naming the field); what the values mean — known SKU, active channel, enough stock —
is decided by orders.services.place_order.
"""

from __future__ import annotations

import threading
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.limits import MAX_NOTES_LENGTH, MAX_ORDER_LINE_QUANTITY, MAX_ORDER_LINES
from core.serializers import (
    CountryField,
    CurrencyField,
    DecimalStringField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictFloatField,
    StrictIntegerField,
)
from core.validators import PLANNED_DATE_HELP, validate_planned_date
from orders.models import Address, Customer, OrderLine, SalesOrder
from orders.services import AddressInput, CustomerInput, LineInput


# --- output -----------------------------------------------------------------------------------
class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "created_at"]
        read_only_fields = fields


class OrderCustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email"]
        read_only_fields = fields


class AddressSerializer(serializers.ModelSerializer):
    lat = serializers.FloatField(source="latitude", read_only=True, allow_null=True)
    lon = serializers.FloatField(source="longitude", read_only=True, allow_null=True)

    class Meta:
        model = Address
        fields = ["name", "line1", "line2", "city", "region", "postal_code", "country", "lat", "lon"]
        read_only_fields = fields


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    allocated = serializers.IntegerField(source="quantity_allocated", read_only=True)
    shipped = serializers.IntegerField(source="quantity_shipped", read_only=True)
    cancelled = serializers.IntegerField(source="quantity_cancelled", read_only=True)
    backordered = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = ["line_no", "sku", "quantity", "unit_price", "allocated", "backordered", "shipped", "cancelled"]
        read_only_fields = fields

    def get_backordered(self, line: OrderLine) -> int:
        # Computed rather than read from the generated column: a just-created line is answered
        # from memory, before any re-read.
        return line.quantity - line.quantity_allocated - line.quantity_shipped - line.quantity_cancelled


class OrderSerializer(serializers.ModelSerializer):
    """An order as the API shows it; `lines` may be handed over in memory as `order.api_lines`."""

    channel = serializers.CharField(source="channel.code", read_only=True)
    tracking_url = serializers.SerializerMethodField()
    customer = OrderCustomerSerializer(read_only=True)
    ship_to = AddressSerializer(read_only=True)
    lines = serializers.SerializerMethodField()

    class Meta:
        model = SalesOrder
        fields = [
            "id", "number", "channel", "external_ref", "status", "currency", "total", "promised_date",
            "tracking_url", "customer", "ship_to", "created_at", "lines",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_tracking_url(self, order: SalesOrder) -> str:
        # Built from the path rather than reverse("track") so the API does not depend on the
        # portal's URLconf; the public tracking page lives at /track/<token>/ (DESIGN.md).
        relative = f"/track/{order.tracking_token}/"
        request = self.context.get("request")
        return request.build_absolute_uri(relative) if request is not None else relative

    @extend_schema_field(OrderLineSerializer(many=True))
    def get_lines(self, order: SalesOrder) -> list[dict[str, Any]]:
        lines = getattr(order, "api_lines", None)
        if lines is None:
            lines = order.lines.all()
        return OrderLineSerializer(lines, many=True, context=self.context).data


# --- input ------------------------------------------------------------------------------------
class CustomerInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    email = StrictEmailField(max_length=254)
    phone = StrictCharField(max_length=40, required=False, allow_blank=True, default="")


class AddressInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = StrictCharField(max_length=200)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    city = StrictCharField(max_length=100)
    region = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True, default="")
    country = CountryField(required=False, default="CN")
    lat = StrictFloatField(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    lon = StrictFloatField(min_value=-180, max_value=180, required=False, allow_null=True, default=None)


class LineInputSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_ORDER_LINE_QUANTITY)
    unit_price = DecimalStringField.for_column(
        OrderLine._meta.get_field("unit_price"),
        required=False, allow_null=True, default=None, help_text=_("Defaults to the product's list price."),
    )


class OrderCreateSerializer(serializers.Serializer):
    """Body of POST /api/v1/orders/ (DESIGN.md)."""

    channel = StrictCharField(max_length=40, help_text=_("Channel code, e.g. web."))
    external_ref = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    customer = CustomerInputSerializer()
    ship_to = AddressInputSerializer()
    lines = LineInputSerializer(many=True, min_length=1, max_length=MAX_ORDER_LINES)
    allow_backorder = StrictBooleanField(required=False, default=True)
    currency = CurrencyField(required=False, default="CNY")
    requested_date = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_planned_date],
        help_text=PLANNED_DATE_HELP,
    )
    notes = StrictCharField(max_length=MAX_NOTES_LENGTH, required=False, allow_blank=True, default="")

    @classmethod
    def for_data(cls, data: Any) -> OrderCreateSerializer:
        """`OrderCreateSerializer(data=data)`, reusing this thread's instance and its fields.

        A new Serializer deep-copies its declared fields, and those of every nested serializer,
        for each instance (~0.3 ms of the ~0.5 ms a create body takes to validate). Fields keep
        no state between validations — DRF itself validates every element of a list with one
        child serializer — so one instance per thread serves every request; only the per-call
        attributes are reset.
        """
        serializer = getattr(_reusable, "order_create", None)
        if serializer is None:
            serializer = _reusable.order_create = cls()
        for attribute in ("_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(attribute, None)
        serializer.initial_data = data
        return serializer

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments for orders.services.place_order (without `user`)."""
        data = self.validated_data
        return {
            "channel": data["channel"],
            "external_ref": data["external_ref"],
            "customer": CustomerInput(**data["customer"]),
            "ship_to": AddressInput(**data["ship_to"]),
            "lines": [LineInput(**line) for line in data["lines"]],
            "allow_backorder": data["allow_backorder"],
            "currency": data["currency"],
            "requested_date": data["requested_date"],
            "notes": data["notes"],
        }


_reusable = threading.local()


class OrderCancelSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


# --- the create/cancel answer, without a serializer per request -------------------------------
# OrderSerializer is a ModelSerializer: every instance rebuilds its fields (and those of its
# nested serializers) from the models — about a quarter of the CPU of POST /api/v1/orders/. The
# answers of create and cancel are built here instead, with DRF's own field objects (built once)
# for the values whose JSON form depends on settings (decimals, dates, datetimes), so the JSON
# is the same as OrderSerializer's; orders/tests/test_api_shape.py compares the two.
_value_fields: dict[str, Any] = {}


def _fields() -> dict[str, Any]:
    if not _value_fields:
        order_fields = OrderSerializer().fields
        _value_fields.update(
            total=order_fields["total"],
            promised_date=order_fields["promised_date"],
            created_at=order_fields["created_at"],
            unit_price=OrderLineSerializer().fields["unit_price"],
        )
    return _value_fields


def _line_data(line: OrderLine, unit_price: Any) -> dict[str, Any]:
    allocated, shipped, cancelled = line.quantity_allocated, line.quantity_shipped, line.quantity_cancelled
    return {
        "line_no": line.line_no,
        "sku": line.product.sku,
        "quantity": line.quantity,
        "unit_price": unit_price.to_representation(line.unit_price),
        "allocated": allocated,
        "backordered": line.quantity - allocated - shipped - cancelled,
        "shipped": shipped,
        "cancelled": cancelled,
    }


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def order_data(order: SalesOrder, *, request: Any = None, lines: Any = None) -> dict[str, Any]:
    """What OrderSerializer(order, context={"request": request}).data gives, built directly.

    `lines` (the order's lines with their products) saves a query when they are in memory.
    """
    fields = _fields()
    customer = order.customer
    address = order.ship_to
    relative = f"/track/{order.tracking_token}/"
    if lines is None:
        lines = getattr(order, "api_lines", None)
    if lines is None:
        lines = order.lines.all()
    unit_price = fields["unit_price"]
    return {
        "id": order.pk,
        "number": order.number,
        "channel": order.channel.code,
        "external_ref": order.external_ref,
        "status": order.status,
        "currency": order.currency,
        "total": fields["total"].to_representation(order.total),
        "promised_date": (
            None if order.promised_date is None else fields["promised_date"].to_representation(order.promised_date)
        ),
        "tracking_url": request.build_absolute_uri(relative) if request is not None else relative,
        "customer": {"id": customer.pk, "name": customer.name, "email": customer.email},
        "ship_to": {
            "name": address.name,
            "line1": address.line1,
            "line2": address.line2,
            "city": address.city,
            "region": address.region,
            "postal_code": address.postal_code,
            "country": address.country,
            "lat": _float_or_none(address.latitude),
            "lon": _float_or_none(address.longitude),
        },
        "created_at": None if order.created_at is None else fields["created_at"].to_representation(order.created_at),
        "lines": [_line_data(line, unit_price) for line in lines],
    }
