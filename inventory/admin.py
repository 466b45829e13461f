"""Admin for inventory. Stock quantities are never edited here: actions call inventory.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from core.exceptions import DomainError
from core.limits import MAX_QUANTITY
from inventory import services
from inventory.models import Product, StockLevel, StockMovement, Warehouse


class StockLevelInline(admin.TabularInline):
    model = StockLevel
    fields = ("warehouse", "on_hand", "reserved", "available", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("warehouse")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "unit", "list_price", "low_stock_threshold", "active", "updated_at")
    list_filter = ("active", "unit")
    search_fields = ("=sku", "name", "=gtin")
    list_editable = ("active",)
    inlines = [StockLevelInline]
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("sku", "name", "gtin", "unit", "list_price", "active")}),
        (gettext_lazy("Size"), {"fields": ("weight_kg", "length_cm", "width_cm", "height_cm")}),
        (gettext_lazy("Stock"), {"fields": ("low_stock_threshold", "created_at", "updated_at")}),
    )
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Products with movements are protected by the ledger; deactivate instead.
        return False


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "country", "priority", "handling_days", "active")
    list_filter = ("active", "country")
    search_fields = ("code", "name", "city")
    ordering = ("priority", "code")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AdjustmentActionForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Change (signed)"), min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255)


class CountActionForm(forms.Form):
    counted = forms.IntegerField(label=gettext_lazy("Counted quantity"), min_value=0, max_value=MAX_QUANTITY)
    reason = forms.CharField(label=gettext_lazy("Note"), max_length=255, required=False)


def _intermediate(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, form: forms.Form,
                  title: str) -> TemplateResponse:
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "queryset": queryset,
        "form": form,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "inventory/admin/stock_action.html", context)


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = ("product", "warehouse", "on_hand", "reserved", "available", "updated_at")
    list_filter = ("warehouse",)
    search_fields = ("=product__sku", "product__name")
    list_select_related = ("product", "warehouse")
    readonly_fields = ("product", "warehouse", "on_hand", "reserved", "available", "ledger_hash", "updated_at")
    actions = ["adjust_stock", "count_stock"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows appear with their first movement

    def save_model(self, request: HttpRequest, obj: StockLevel, form: Any, change: bool) -> None:
        # Every field is read-only; a full save would write back stale on_hand/reserved values
        # over a concurrent reservation. Quantities change only through the actions (services).
        return

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _run(self, request: HttpRequest, queryset: QuerySet, call: Any) -> None:
        done = 0
        for level in queryset.select_related("product", "warehouse"):
            try:
                call(level)
            except DomainError as error:
                self.message_user(
                    request, f"{level.product.sku}@{level.warehouse.code}: {error.message}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, _("%(count)s stock level(s) updated through the ledger.") % {"count": done},
                              messages.SUCCESS)

    @admin.action(description=gettext_lazy("Adjust stock (ledger movement with reason)…"), permissions=["change"])
    def adjust_stock(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        form = AdjustmentActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            self._run(request, queryset, lambda level: services.stock_adjust(
                product=level.product_id, warehouse=level.warehouse_id, quantity=data["quantity"],
                reason=data["reason"], user=request.user, reference="admin",
            ))
            return None
        return _intermediate(self, request, queryset, form, _("Adjust stock"))

    @admin.action(description=gettext_lazy("Cycle count (post the difference)…"), permissions=["change"])
    def count_stock(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        form = CountActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            self._run(request, queryset, lambda level: services.stock_count(
                product=level.product_id, warehouse=level.warehouse_id, counted=data["counted"],
                reason=data.get("reason") or "", user=request.user,
            ))
            return None
        return _intermediate(self, request, queryset, form, _("Cycle count"))


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "product", "warehouse", "kind", "quantity", "balance_after", "reference", "user")
    list_filter = ("kind", "warehouse")
    search_fields = ("=product__sku", "=reference")
    list_select_related = ("product", "warehouse", "user")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
