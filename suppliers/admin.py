"""Admin for every purchasing model; status changes and receipts go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from suppliers import permissions as po_permissions
from suppliers import services
from suppliers.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    ReorderPolicy,
    Supplier,
    SupplierPriceBreak,
    SupplierProduct,
    SupplierUser,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class SupplierProductInline(admin.TabularInline):
    model = SupplierProduct
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", "supplier_sku", "cost", "currency", "minimum_order_quantity", "pack_size",
              "lead_time_days", "preferred", "active"]


class SupplierUserInline(admin.TabularInline):
    model = SupplierUser
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "email", "currency", "default_lead_time_days", "landed_cost_percent", "active"]
    list_filter = ["active", "currency", "country"]
    search_fields = ["code", "name", "email"]
    inlines = [SupplierProductInline, SupplierUserInline]


class PriceBreakInline(admin.TabularInline):
    model = SupplierPriceBreak
    extra = 0


@admin.register(SupplierProduct)
class SupplierProductAdmin(admin.ModelAdmin):
    list_display = ["supplier", "product", "supplier_sku", "cost", "currency", "minimum_order_quantity",
                    "pack_size", "lead_time_days", "preferred", "active"]
    list_filter = ["preferred", "active", "supplier"]
    search_fields = ["supplier_sku", "product__sku", "product__name", "supplier__code"]
    list_select_related = ["supplier", "product"]
    autocomplete_fields = ["supplier", "product"]
    inlines = [PriceBreakInline]


@admin.register(SupplierPriceBreak)
class SupplierPriceBreakAdmin(admin.ModelAdmin):
    list_display = ["supplier_product", "min_quantity", "unit_cost"]
    list_select_related = ["supplier_product__supplier"]
    search_fields = ["supplier_product__product__sku"]
    raw_id_fields = ["supplier_product"]


@admin.register(ReorderPolicy)
class ReorderPolicyAdmin(admin.ModelAdmin):
    list_display = ["product", "warehouse", "method", "min_quantity", "max_quantity", "service_level",
                    "reorder_level", "safety_stock", "demand_mean", "lead_time_used", "critical", "active"]
    list_filter = ["method", "critical", "active", "warehouse"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "warehouse"]
    autocomplete_fields = ["product", "preferred_supplier"]
    readonly_fields = ["reorder_level", "safety_stock", "demand_mean", "demand_sigma", "lead_time_used", "computed_at"]

    def save_model(self, request: Any, obj: ReorderPolicy, form: Any, change: bool) -> None:
        services.reorder_policy_save(policy=obj, user=request.user)


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    fields = ["line_no", "product", "quantity", "unit_cost", "quantity_received", "expected_date",
              "confirmed_date", "suggestion"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class PurchaseOrderEventInline(admin.TabularInline):
    model = PurchaseOrderEvent
    extra = 0
    fields = ["created_at", "kind", "from_status", "to_status", "user", "message"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    """Orders are created in the portal/API; here they are inspected and moved on by actions."""

    list_display = ["number", "supplier", "warehouse", "status", "source", "total", "currency", "expected_date",
                    "created_at"]
    list_filter = ["status", "source", "supplier", "warehouse"]
    search_fields = ["number", "supplier__code", "supplier__name", "lines__product__sku"]
    list_select_related = ["supplier", "warehouse"]
    date_hierarchy = "created_at"
    readonly_fields = ["number", "supplier", "warehouse", "status", "source", "currency", "total", "created_by",
                       "approved_by", "sent_at", "acknowledged_at", "emailed_at", "closed_at", "created_at",
                       "updated_at"]
    fields = [*readonly_fields, "expected_date", "payment_terms", "notes"]
    inlines = [PurchaseOrderLineInline, PurchaseOrderEventInline]
    actions = ["approve_and_send", "acknowledge", "close"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def _each(self, request: Any, queryset: Any, call: Any, done: str) -> None:
        count = 0
        for po in queryset.order_by("pk"):
            try:
                call(purchase_order=po.pk, user=request.user)
                count += 1
            except DomainError as error:
                self.message_user(request, f"{po.number}: {error.message}", messages.ERROR)
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)

    # Each action needs its own permission (suppliers/permissions.py), as in the portal and API.
    def has_send_permission(self, request: Any) -> bool:
        return request.user.has_perm(po_permissions.SEND)

    def has_acknowledge_permission(self, request: Any) -> bool:
        return request.user.has_perm(po_permissions.ACKNOWLEDGE)

    def has_cancel_permission(self, request: Any) -> bool:
        return request.user.has_perm(po_permissions.CANCEL)

    @admin.action(description=_("Approve and send to the supplier"), permissions=["send"])
    def approve_and_send(self, request: Any, queryset: Any) -> None:
        self._each(request, queryset, services.purchase_order_send, _("%(count)s purchase order(s) sent."))

    @admin.action(description=_("Mark acknowledged by the supplier"), permissions=["acknowledge"])
    def acknowledge(self, request: Any, queryset: Any) -> None:
        self._each(request, queryset, services.purchase_order_acknowledge, _("%(count)s acknowledged."))

    @admin.action(description=_("Close (short-close what is missing)"), permissions=["cancel"])
    def close(self, request: Any, queryset: Any) -> None:
        self._each(request, queryset, services.purchase_order_close, _("%(count)s closed."))


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(ReadOnlyAdmin):
    list_display = ["purchase_order", "line_no", "product", "warehouse", "quantity", "quantity_received",
                    "unit_cost", "expected_date", "confirmed_date", "suggestion"]
    list_filter = ["suggestion", "warehouse"]
    search_fields = ["purchase_order__number", "product__sku"]
    list_select_related = ["purchase_order", "product", "warehouse"]


class GoodsReceiptLineInline(admin.TabularInline):
    model = GoodsReceiptLine
    extra = 0
    fields = ["line", "quantity", "unit_cost"]
    readonly_fields = fields
    can_delete = False


@admin.register(GoodsReceipt)
class GoodsReceiptAdmin(ReadOnlyAdmin):
    list_display = ["number", "purchase_order", "received_at", "received_by", "delivery_note"]
    search_fields = ["number", "purchase_order__number", "delivery_note"]
    list_select_related = ["purchase_order", "received_by"]
    date_hierarchy = "received_at"
    inlines = [GoodsReceiptLineInline]


@admin.register(GoodsReceiptLine)
class GoodsReceiptLineAdmin(ReadOnlyAdmin):
    list_display = ["receipt", "line", "quantity", "unit_cost"]
    list_select_related = ["receipt", "line"]
    search_fields = ["receipt__number"]


@admin.register(PurchaseOrderEvent)
class PurchaseOrderEventAdmin(ReadOnlyAdmin):
    list_display = ["purchase_order", "created_at", "kind", "from_status", "to_status", "user", "message"]
    list_filter = ["kind"]
    search_fields = ["purchase_order__number", "message"]
    list_select_related = ["purchase_order", "user"]


@admin.register(SupplierUser)
class SupplierUserAdmin(admin.ModelAdmin):
    list_display = ["user", "supplier"]
    search_fields = ["user__username", "supplier__code"]
    list_select_related = ["user", "supplier"]
    autocomplete_fields = ["user", "supplier"]

    def save_model(self, request: Any, obj: SupplierUser, form: Any, change: bool) -> None:
        services.supplier_user_link(user=obj.user, supplier=obj.supplier)
