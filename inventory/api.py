"""REST API for products, warehouses, stock levels and stock adjustments (/api/v1/).

Thin adapters: reads are filters over inventory.selectors, the only stock write goes through
inventory.services.stock_adjust (a 409 when it would leave less on hand than is reserved).
"""

from __future__ import annotations

from typing import Any

import django_filters.rest_framework as filters
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.exceptions import ValidationFailed
from core.idempotency import idempotent
from core.serializers import FieldErrorsMixin, integrity_error_field
from inventory import selectors, services
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.serializers import (
    ProductSerializer,
    StockAdjustmentResultSerializer,
    StockAdjustmentSerializer,
    StockLevelSerializer,
    StockMovementSerializer,
    WarehouseSerializer,
)


# --- filters ----------------------------------------------------------------------------------
class ProductFilter(filters.FilterSet):
    sku = filters.CharFilter(field_name="sku")
    active = filters.BooleanFilter(field_name="active")
    search = filters.CharFilter(method="filter_search", label=_("SKU or name contains"))

    class Meta:
        model = Product
        fields = ["sku", "active", "search"]

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(sku__icontains=value) | Q(name__icontains=value))


class WarehouseFilter(filters.FilterSet):
    code = filters.CharFilter(field_name="code")
    active = filters.BooleanFilter(field_name="active")

    class Meta:
        model = Warehouse
        fields = ["code", "active"]


class StockLevelFilter(filters.FilterSet):
    sku = filters.CharFilter(field_name="product__sku")
    warehouse = filters.CharFilter(field_name="warehouse__code", label=_("Warehouse code"))

    class Meta:
        model = StockLevel
        fields = ["sku", "warehouse"]


# --- views ------------------------------------------------------------------------------------
class ProductViewSet(
    FieldErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Products: list (filter by sku, active, search), detail, create, update."""

    queryset = Product.objects.order_by("sku", "id")
    serializer_class = ProductSerializer
    filterset_class = ProductFilter

    def perform_create(self, serializer: ProductSerializer) -> None:
        self._save(serializer)

    def perform_update(self, serializer: ProductSerializer) -> None:
        self._save(serializer)

    def _save(self, serializer: ProductSerializer) -> None:
        # The serializer checks uniqueness; a concurrent insert of the same SKU/GTIN still ends
        # at the database constraint, which must become a 400 naming the field, not a 500.
        try:
            with transaction.atomic():
                serializer.save()
        except IntegrityError as exc:
            field = integrity_error_field(
                exc, {"inventory_product_sku": "sku", "sku_key": "sku", "product_gtin_unique": "gtin"}
            )
            if field is None:
                raise
            raise ValidationFailed(_("A product with this %(field)s already exists.") % {"field": field}, field=field) from exc


class WarehouseViewSet(FieldErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Warehouses: list (filter by code, active) and detail."""

    queryset = Warehouse.objects.order_by("priority", "code")
    serializer_class = WarehouseSerializer
    filterset_class = WarehouseFilter


class StockLevelViewSet(FieldErrorsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Stock levels per product and warehouse (filter by sku, warehouse code)."""

    queryset = StockLevel.objects.none()
    serializer_class = StockLevelSerializer
    filterset_class = StockLevelFilter

    def get_queryset(self) -> QuerySet[StockLevel]:
        return selectors.stock_levels()


class StockAdjustmentView(FieldErrorsMixin, GenericAPIView):
    """Post a signed stock adjustment to the ledger."""

    # ModelPermissions: POST needs inventory.add_stockmovement (the Warehouse role has it).
    queryset = StockMovement.objects.none()
    serializer_class = StockAdjustmentSerializer

    @extend_schema(
        operation_id="stock_adjustments_create",
        request=StockAdjustmentSerializer,
        responses={
            201: StockAdjustmentResultSerializer,
            409: OpenApiResponse(
                description="The change would leave less on hand than is reserved (or below zero), or more than "
                "a stock level holds; or the same Idempotency-Key is still in flight."
            ),
        },
    )
    @idempotent
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        product = Product.objects.filter(sku=data["sku"]).first()
        if product is None:
            raise ValidationFailed(_("Unknown SKU %(sku)s.") % {"sku": data["sku"]}, field="sku")
        warehouse = Warehouse.objects.filter(code=data["warehouse"]).first()
        if warehouse is None:
            raise ValidationFailed(
                _("Unknown warehouse %(code)s.") % {"code": data["warehouse"]}, field="warehouse"
            )
        movement = services.stock_adjust(
            product=product, warehouse=warehouse, quantity=data["quantity"], reason=data["reason"],
            reference=data["reference"], user=request.user,
        )
        movement.product, movement.warehouse = product, warehouse
        level = selectors.stock_levels().get(product=product, warehouse=warehouse)
        body = {
            "movement": StockMovementSerializer(movement).data,
            "level": StockLevelSerializer(level).data,
        }
        return Response(body, status=201)


def register(router: Any, extra_urls: list) -> None:
    router.register("products", ProductViewSet, basename="product")
    router.register("warehouses", WarehouseViewSet, basename="warehouse")
    router.register("stock", StockLevelViewSet, basename="stock-level")
    extra_urls.append(path("stock/adjustments/", StockAdjustmentView.as_view(), name="stock-adjustment"))
