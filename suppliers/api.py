"""REST API: /api/v1/suppliers/ and /api/v1/purchase-orders/ (with send, cancel, receive, acknowledge).

Supplier logins see only their own supplier and its purchase orders (never drafts): the
querysets are scoped, so another supplier's id answers 404; they may only acknowledge.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ModelPermissions
from core.exceptions import ValidationFailed
from core.serializers import FieldErrorsMixin
from inventory.models import Warehouse
from suppliers import selectors, services
from suppliers.models import PurchaseOrder, PurchaseOrderLine, Supplier
from suppliers.permissions import API_ACTIONS
from suppliers.serializers import (
    AcknowledgeSerializer,
    CancelSerializer,
    PurchaseOrderCreatedSerializer,
    PurchaseOrderCreateSerializer,
    PurchaseOrderSerializer,
    ReceiveSerializer,
    SupplierSerializer,
)
from suppliers.statuses import PurchaseOrderStatus


class SupplierScopedPermissions(ModelPermissions):
    """Supplier logins may read their own supplier without model permissions; nothing else."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user and request.user.is_authenticated and selectors.is_supplier_user(request.user):
            return request.method in permissions.SAFE_METHODS
        return super().has_permission(request, view)


class PurchaseOrderPermissions(ModelPermissions):
    """Model permissions for list, read and create; every action on an existing order needs its
    own permission (suppliers.permissions.API_ACTIONS) — an action without one is refused."""

    STANDARD_ACTIONS = frozenset({"list", "retrieve", "create", "metadata", None})

    def has_permission(self, request: Request, view: Any) -> bool:
        action = getattr(view, "action", None)
        if action in self.STANDARD_ACTIONS:
            return super().has_permission(request, view)
        needed = API_ACTIONS.get(action)
        return bool(needed and request.user and request.user.is_authenticated and request.user.has_perm(needed))


class StaffOnly(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return not selectors.is_supplier_user(request.user)


class SupplierFilter(filters.FilterSet):
    code = filters.CharFilter(field_name="code")
    active = filters.BooleanFilter(field_name="active")

    class Meta:
        model = Supplier
        fields = ["code", "active"]


class SupplierViewSet(FieldErrorsMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                      viewsets.ReadOnlyModelViewSet):
    serializer_class = SupplierSerializer
    permission_classes = [SupplierScopedPermissions]
    filterset_class = SupplierFilter

    def get_queryset(self) -> QuerySet[Supplier]:
        return selectors.suppliers_for(user=self.request.user).order_by("code")

    def perform_create(self, serializer: SupplierSerializer) -> None:
        serializer.instance = services.supplier_save(supplier=Supplier(**serializer.validated_data),
                                                     user=self.request.user)

    def perform_update(self, serializer: SupplierSerializer) -> None:
        supplier = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(supplier, name, value)
        serializer.instance = services.supplier_save(supplier=supplier, user=self.request.user)


class PurchaseOrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=PurchaseOrderStatus.choices)
    supplier = filters.CharFilter(field_name="supplier__code")
    warehouse = filters.CharFilter(field_name="warehouse__code")
    number = filters.CharFilter(field_name="number")
    created = filters.DateFromToRangeFilter(field_name="created_at__date")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier", "warehouse", "number", "created"]


class PurchaseOrderViewSet(FieldErrorsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return selectors.purchase_orders_for(user=self.request.user).prefetch_related(
            Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product").order_by("line_no"))
        ).order_by("-created_at", "-id")

    def get_permissions(self) -> list:
        staff_actions = {"create", "send", "cancel", "receive"}
        classes = [PurchaseOrderPermissions] + ([StaffOnly] if self.action in staff_actions else [])
        return [cls() for cls in classes]

    def _reply(self, purchase_order: PurchaseOrder, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().model.objects.select_related("supplier", "warehouse").prefetch_related(
            Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product").order_by("line_no"))
        ).get(pk=purchase_order.pk)
        return Response(PurchaseOrderSerializer(fresh).data, status=code)

    def create(self, request: Request) -> Response:
        serializer = PurchaseOrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        warehouse = Warehouse.objects.filter(code=data["warehouse"]).first()
        if warehouse is None:
            raise ValidationFailed(_("Unknown warehouse."), field="warehouse")
        created = services.purchase_order_create(
            supplier=data["supplier"], warehouse=warehouse, notes=data["notes"], user=request.user,
            lines=[services.PurchaseOrderLineInput(product=line["sku"], quantity=line["quantity"],
                                                   unit_cost=line.get("unit_cost"),
                                                   expected_date=line.get("expected_date"))
                   for line in data["lines"]],
        )
        response = self._reply(created.purchase_order, status.HTTP_201_CREATED)
        response.data["warnings"] = created.warnings
        return response

    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        return self._reply(services.purchase_order_send(purchase_order=self.get_object(), user=request.user))

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._reply(services.purchase_order_cancel(
            purchase_order=self.get_object(), reason=serializer.validated_data["reason"], user=request.user))

    @action(detail=True, methods=["post"])
    def receive(self, request: Request, pk: str | None = None) -> Response:
        po = self.get_object()
        serializer = ReceiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.purchase_order_receive(
            purchase_order=po, user=request.user, delivery_note=serializer.validated_data["delivery_note"],
            lines=[services.ReceiptLineInput(line_id=line["line_id"], quantity=line["quantity"],
                                             unit_cost=line.get("unit_cost"))
                   for line in serializer.validated_data["lines"]],
        )
        return self._reply(po, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        po = self.get_object()
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dates = {line["line_id"]: line["confirmed_date"] for line in serializer.validated_data["lines"]}
        if po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED:
            po = services.purchase_order_confirm_dates(purchase_order=po, dates=dates, user=request.user)
        else:
            po = services.purchase_order_acknowledge(purchase_order=po, confirmed_dates=dates, user=request.user)
        return self._reply(po)


# The schema of the purchase-order actions: each reads its own input serializer (the viewset's
# serializer_class is the output). core.schema.AutoSchema adds the common error answers.
_WRONG_STATE = OpenApiResponse(description="The purchase order's status does not allow this action.")
extend_schema_view(
    create=extend_schema(
        request=PurchaseOrderCreateSerializer,
        responses={201: PurchaseOrderCreatedSerializer, 409: OpenApiResponse(
            description="New purchase orders to this supplier are blocked by its delivery record.")},
    ),
    send=extend_schema(request=None, responses={200: PurchaseOrderSerializer, 409: _WRONG_STATE}),
    cancel=extend_schema(request=CancelSerializer, responses={200: PurchaseOrderSerializer, 409: _WRONG_STATE}),
    receive=extend_schema(request=ReceiveSerializer, responses={201: PurchaseOrderSerializer, 409: _WRONG_STATE}),
    acknowledge=extend_schema(
        request=AcknowledgeSerializer, responses={200: PurchaseOrderSerializer, 409: _WRONG_STATE}
    ),
)(PurchaseOrderViewSet)


def register(router: Any, extra_urls: list) -> None:
    router.register("suppliers", SupplierViewSet, basename="supplier")
    router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")
