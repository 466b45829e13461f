"""Admin for orders. Status, quantities and allocations change only through orders.services:
the admin shows them read-only and its actions call the same services as the portal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from core.exceptions import DomainError
from orders import services
from orders.models import Address, Allocation, Channel, Customer, OrderEvent, OrderLine, SalesOrder


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "allocation_strategy", "active")
    list_filter = ("kind", "active", "allocation_strategy")
    search_fields = ("code", "name")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # orders point at their channel; deactivate instead


class AddressInline(admin.TabularInline):
    model = Address
    fields = ("name", "line1", "line2", "city", "region", "postal_code", "country")
    extra = 0
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "created_at")
    search_fields = ("name", "=email")
    inlines = [AddressInline]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("__str__", "customer", "city", "country")
    list_filter = ("country",)
    search_fields = ("city", "postal_code", "customer__email")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ("line_no", "product", "quantity", "unit_price", "quantity_allocated", "quantity_shipped",
              "quantity_cancelled", "quantity_backordered")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("product")


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    fields = ("created_at", "kind", "from_status", "to_status", "message", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


class ReasonActionForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255)


@admin.register(SalesOrder)
class SalesOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "created_at", "channel", "external_ref", "customer", "status", "total", "currency",
                    "promised_date")
    list_filter = ("status", "channel", "allow_backorder")
    search_fields = ("=number", "=external_ref", "=customer__email")
    list_select_related = ("channel", "customer")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    inlines = [OrderLineInline, OrderEventInline]
    actions = ["allocate_orders", "hold_orders", "release_holds", "cancel_orders"]
    fieldsets = (
        (None, {"fields": ("number", "channel", "external_ref", "customer", "ship_to", "status", "status_before_hold",
                           "hold_reason", "cancel_reason")}),
        (gettext_lazy("Money and dates"), {"fields": ("currency", "subtotal", "total", "requested_date",
                                                      "promised_date", "allow_backorder", "allocation_strategy")}),
        (gettext_lazy("Allocations"), {"fields": ("allocation_table",)}),
        (gettext_lazy("Other"), {"fields": ("notes", "tracking_token", "created_by", "created_at", "updated_at")}),
    )
    # Only the notes are edited here; everything else moves through the services.
    readonly_fields = ("number", "channel", "external_ref", "customer", "ship_to", "status", "status_before_hold",
                       "hold_reason", "cancel_reason", "currency", "subtotal", "total", "requested_date",
                       "promised_date", "allow_backorder", "allocation_strategy", "allocation_table",
                       "tracking_token", "created_by", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed through the portal, the API or imports (place_order)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleting would drop reservations behind the ledger's back; cancel instead

    def save_model(self, request: HttpRequest, obj: SalesOrder, form: Any, change: bool) -> None:
        # Write only what the form changed, so a concurrent status change is never overwritten.
        changed = [name for name in form.changed_data if name not in self.readonly_fields]
        if changed:
            obj.save(update_fields=[*changed, "updated_at"])

    @admin.display(description=gettext_lazy("allocations by warehouse"))
    def allocation_table(self, order: SalesOrder) -> str:
        rows = (
            Allocation.objects.filter(line__order=order)
            .select_related("warehouse", "line__product")
            .order_by("warehouse__priority", "warehouse__code", "line__line_no")
        )
        return render_to_string("orders/admin/allocation_table.html", {"allocations": rows})

    def _run(self, request: HttpRequest, queryset: QuerySet, call: Callable[[int], Any]) -> None:
        done: list[str] = []
        for order_id, number in queryset.order_by("id").values_list("id", "number"):
            try:
                call(order_id)
            except DomainError as error:
                self.message_user(request, f"{number}: {error.message}", messages.ERROR)
            else:
                done.append(number)
        if done:
            self.message_user(request, _("Done for %(count)s order(s): %(numbers)s.")
                              % {"count": len(done), "numbers": ", ".join(done[:50])}, messages.SUCCESS)

    def _with_reason(self, request: HttpRequest, queryset: QuerySet, title: str,
                     call: Callable[[int, str], Any]) -> TemplateResponse | None:
        form = ReasonActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run(request, queryset, lambda order_id: call(order_id, reason))
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset.select_related("customer"),
            "form": form,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "orders/admin/reason_action.html", context)

    @admin.action(description=gettext_lazy("Allocate stock to the selected orders"), permissions=["change"])
    def allocate_orders(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, queryset, lambda order_id: services.allocate_order(order=order_id, user=request.user))

    @admin.action(description=gettext_lazy("Put the selected orders on hold…"), permissions=["change"])
    def hold_orders(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        return self._with_reason(request, queryset, _("Hold orders"), lambda order_id, reason: services.hold_order(
            order=order_id, reason=reason, user=request.user))

    @admin.action(description=gettext_lazy("Release the hold of the selected orders"), permissions=["change"])
    def release_holds(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run(request, queryset, lambda order_id: services.release_hold(order=order_id, user=request.user))

    @admin.action(description=gettext_lazy("Cancel the selected orders (releases stock)…"), permissions=["change"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        return self._with_reason(request, queryset, _("Cancel orders"), lambda order_id, reason: services.cancel_order(
            order=order_id, reason=reason, user=request.user))


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ("order", "line_no", "product", "quantity", "unit_price", "quantity_allocated", "quantity_shipped",
                    "quantity_cancelled", "quantity_backordered")
    search_fields = ("=order__number", "=product__sku")
    list_select_related = ("order", "product")
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ("line", "order_number", "warehouse", "quantity", "quantity_shipped", "created_at")
    list_filter = ("warehouse",)
    search_fields = ("=line__order__number",)
    list_select_related = ("line__order", "warehouse")
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description=gettext_lazy("order"))
    def order_number(self, allocation: Allocation) -> str:
        return allocation.line.order.number


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "order", "kind", "from_status", "to_status", "message", "actor")
    list_filter = ("kind", "to_status")
    search_fields = ("=order__number",)
    list_select_related = ("order", "actor")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
