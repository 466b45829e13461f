"""REST API for customers and orders (/api/v1/): list, detail, create, cancel.

Thin adapters over orders.services: the views parse and shape, place_order/cancel_order decide
and write. Create and cancel honour `Idempotency-Key` (core.idempotency).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import django_filters.rest_framework as filters
from django import forms
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ModelPermissions
from core.api_filters import IdFilter
from core.idempotency import idempotent
from core.serializers import FieldErrorsMixin
from orders import services
from orders.models import Customer, OrderLine, SalesOrder
from orders.serializers import (
    CustomerSerializer,
    OrderCancelSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    order_data,
)
from orders.statuses import OrderStatus


def order_queryset() -> QuerySet[SalesOrder]:
    """Orders with everything the API shows: a constant number of queries for any page size."""
    return SalesOrder.objects.select_related("channel", "customer", "ship_to").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("line_no"))
    )


# --- filters ----------------------------------------------------------------------------------
class DateOrDateTimeField(forms.Field):
    """A date (2026-03-01) or an ISO datetime (2026-03-01T08:00:00+08:00)."""

    default_error_messages = {"invalid": gettext_lazy("Enter a date (YYYY-MM-DD) or an ISO 8601 date and time.")}

    def to_python(self, value: Any) -> date | datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            # parse_date first: parse_datetime would read "2026-03-01" as midnight, which makes
            # created_before=<today> exclude today.
            parsed = parse_date(text) or parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(parsed, datetime):
            # In UTC: PostgreSQL refuses offsets past ±15:59 that ISO 8601 allows, and a moment
            # that leaves the calendar (year 9999 at -05:00) is no bound at all.
            try:
                parsed = _aware(parsed).astimezone(UTC)
            except (OverflowError, ValueError) as exc:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return parsed


@extend_schema_field({"oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]})
class CreatedBoundFilter(filters.Filter):
    field_class = DateOrDateTimeField


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _aware(moment: datetime) -> datetime:
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class OrderFilter(filters.FilterSet):
    channel = filters.CharFilter(field_name="channel__code", label=gettext_lazy("Channel code"))
    external_ref = filters.CharFilter(field_name="external_ref")
    status = filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    sku = filters.CharFilter(method="filter_sku", label=gettext_lazy("Has a line with this SKU"))
    customer = IdFilter(field_name="customer_id")
    created_after = CreatedBoundFilter(
        method="filter_created_after", label=gettext_lazy("Created on or after this date (or moment)")
    )
    created_before = CreatedBoundFilter(
        method="filter_created_before", label=gettext_lazy("Created on or before this date (or moment)")
    )

    class Meta:
        model = SalesOrder
        fields = ["channel", "external_ref", "status", "sku", "customer", "created_after", "created_before"]

    def filter_sku(self, queryset: QuerySet[SalesOrder], name: str, value: str) -> QuerySet[SalesOrder]:
        # EXISTS, not a join: an order with two lines of the SKU must appear once.
        lines = OrderLine.objects.filter(order_id=OuterRef("pk"), product__sku=value.strip())
        return queryset.filter(Exists(lines))

    def filter_created_after(
        self, queryset: QuerySet[SalesOrder], name: str, value: date | datetime
    ) -> QuerySet[SalesOrder]:
        start = _aware(value) if isinstance(value, datetime) else _start_of(value)
        return queryset.filter(created_at__gte=start)

    def filter_created_before(
        self, queryset: QuerySet[SalesOrder], name: str, value: date | datetime
    ) -> QuerySet[SalesOrder]:
        if isinstance(value, datetime):
            return queryset.filter(created_at__lte=_aware(value))
        if value == date.max:
            return queryset
        # A date is inclusive: everything before the next day starts (keeps the index usable).
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))


class CustomerFilter(filters.FilterSet):
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")
    search = filters.CharFilter(method="filter_search", label=gettext_lazy("Name or email contains"))

    class Meta:
        model = Customer
        fields = ["email", "search"]

    def filter_search(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))


# --- permissions ------------------------------------------------------------------------------
class OrderChangePermission(ModelPermissions):
    """Actions that change an existing order (cancel) need `change_salesorder`, not `add_`."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


# --- views ------------------------------------------------------------------------------------
class CustomerViewSet(FieldErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Customers: list (filter by email, search) and detail."""

    queryset = Customer.objects.order_by("name", "id")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter


class OrderViewSet(FieldErrorsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sales orders: list with filters, detail, create (idempotent), cancel."""

    queryset = SalesOrder.objects.none()
    serializer_class = OrderSerializer
    filterset_class = OrderFilter

    def get_queryset(self) -> QuerySet[SalesOrder]:
        return order_queryset()

    @extend_schema(
        request=OrderCreateSerializer,
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(OrderSerializer, description="This channel + external_ref exists: that order."),
            409: OpenApiResponse(
                description="Not enough stock and allow_backorder is false (`details.short` names the SKUs), "
                "or the same Idempotency-Key is still in flight."
            ),
        },
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = OrderCreateSerializer.for_data(request.data)
        serializer.is_valid(raise_exception=True)
        placed = services.place_order(**serializer.service_arguments(), user=request.user)
        if placed.created:
            # Answered from memory: the service hands back the order with its related rows and
            # lines, so no re-read while this request's transaction may still hold stock locks.
            order = placed.order
            order.api_lines = placed.lines
            status = 201
        else:
            order = order_queryset().get(pk=placed.order.pk)
            status = 200
        return Response(order_data(order, request=request), status=status)

    @extend_schema(
        request=OrderCancelSerializer,
        responses={
            200: OrderSerializer,
            404: OpenApiResponse(description="No such order."),
            409: OpenApiResponse(
                description="The order can no longer be cancelled (shipped, closed, …), or the same "
                "Idempotency-Key is still in flight."
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[OrderChangePermission])
    @idempotent
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel what has not shipped and release its reserved stock."""
        serializer = OrderCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"].strip() or _("Cancelled through the API.")
        order_id = int(pk or 0)
        services.cancel_order(order=order_id, reason=reason, user=request.user)
        order = order_queryset().get(pk=order_id)
        return Response(order_data(order, request=request))


def register(router: Any, extra_urls: list) -> None:
    router.register("customers", CustomerViewSet, basename="customer")
    router.register("orders", OrderViewSet, basename="order")
