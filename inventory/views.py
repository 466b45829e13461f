"""Inventory portal: products, stock by warehouse with the ledger, warehouses, low stock, and the
adjustment / transfer / cycle-count forms. Thin adapters over inventory.selectors / services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import DomainError
from core.htmx import is_partial, render_page
from core.pagination import PAGE_SIZES, keyset_page, page_size_from, peek_page
from core.permissions import portal_view
from inventory import panels, selectors, services
from inventory.filters import LedgerFilter, ProductFilter
from inventory.forms import CycleCountForm, StockAdjustmentForm, StockTransferForm
from inventory.models import Product

CHANGE_STOCK = "inventory.change_stocklevel"


@require_GET
@portal_view("inventory", "inventory.view_product")
def product_list(request: HttpRequest) -> HttpResponse:
    product_filter = ProductFilter(request.GET or None, queryset=Product.objects.all())
    queryset = product_filter.qs if product_filter.is_bound and product_filter.is_valid() else Product.objects.all()
    page = keyset_page(
        queryset, keys=("sku",), descending=False, after=request.GET.get("after"),
        before=request.GET.get("before"), page_size=page_size_from(request.GET.get("per_page")),
    )
    selectors.attach_stock_totals(page.items)
    context = {
        "filter": product_filter,
        "page": page,
        "page_sizes": PAGE_SIZES,
        "can_change_stock": request.user.has_perm(CHANGE_STOCK),
    }
    return render_page(request, "inventory/product_list.html", "inventory/partials/product_results.html", context)


index = product_list


@require_GET
@portal_view("inventory", "inventory.view_product", "inventory.view_stockmovement")
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    _product, stock_rows = selectors.stock_by_warehouse(product=product)
    ledger_filter = LedgerFilter(request.GET or None)
    warehouse = ledger_filter.form.cleaned_data.get("warehouse") if ledger_filter.is_valid() else None
    ledger = keyset_page(
        selectors.product_ledger(product=product, warehouse_id=warehouse.pk if warehouse else None),
        keys=("id",), descending=True, after=request.GET.get("after"), before=request.GET.get("before"),
        page_size=page_size_from(request.GET.get("per_page")),
    )
    context = {
        "product": product,
        "stock_rows": stock_rows,
        "totals": {
            "on_hand": sum(row.on_hand for row in stock_rows),
            "reserved": sum(row.reserved for row in stock_rows),
            "available": sum(row.available for row in stock_rows),
        },
        "ledger": ledger,
        "page": ledger,
        "ledger_filter": ledger_filter,
        "can_change_stock": request.user.has_perm(CHANGE_STOCK),
    }
    if not is_partial(request):
        # Panels of higher apps (e.g. purchasing's demand forecast); the ledger fragment needs none.
        context["panels"] = panels.product_panels(product=product, request=request)
        context["panel_scripts"] = panels.panel_scripts(context["panels"])
    return render_page(request, "inventory/product_detail.html", "inventory/partials/ledger.html", context)


@require_GET
@portal_view("inventory", "inventory.view_warehouse")
def warehouse_list(request: HttpRequest) -> HttpResponse:
    return render(request, "inventory/warehouse_list.html", {"warehouses": selectors.warehouse_summaries()})


@require_GET
@portal_view("inventory", "inventory.view_stocklevel")
def low_stock_list(request: HttpRequest) -> HttpResponse:
    page = peek_page(selectors.low_stock(), page=request.GET.get("page"), page_size=page_size_from(request.GET.get("per_page")))
    return render(
        request, "inventory/low_stock_list.html",
        {"page": page, "can_change_stock": request.user.has_perm(CHANGE_STOCK)},
    )


# --- stock movement forms ------------------------------------------------------------------------
def _stock_form_view(
    request: HttpRequest,
    *,
    form_class: type,
    apply: Callable[[dict[str, Any], Any], Any],
    success: Callable[[dict[str, Any], Any], str],
    title: str,
    submit_label: str,
) -> HttpResponse:
    initial = {key: request.GET[key] for key in ("product", "warehouse", "from_warehouse") if request.GET.get(key)}
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                result = apply(form.cleaned_data, request.user)
            except DomainError as error:
                form.attach_service_error(error)
            else:
                messages.success(request, success(form.cleaned_data, result))
                return redirect("inventory:product_detail", pk=form.cleaned_data["product"].pk)
    else:
        form = form_class(initial=initial)
    return render(request, "inventory/stock_form.html", {"form": form, "title": title, "submit_label": submit_label})


@require_http_methods(["GET", "POST"])
@portal_view("inventory", CHANGE_STOCK)
def stock_adjust(request: HttpRequest) -> HttpResponse:
    return _stock_form_view(
        request,
        form_class=StockAdjustmentForm,
        apply=lambda data, user: services.stock_adjust(
            product=data["product"], warehouse=data["warehouse"], quantity=data["quantity"],
            reason=data["reason"], user=user,
        ),
        success=lambda data, movement: _("Adjusted %(sku)s in %(warehouse)s by %(quantity)+d: %(balance)s on hand.")
        % {"sku": data["product"].sku, "warehouse": data["warehouse"].code, "quantity": data["quantity"],
           "balance": movement.balance_after},
        title=_("Stock adjustment"),
        submit_label=_("Post adjustment"),
    )


@require_http_methods(["GET", "POST"])
@portal_view("inventory", CHANGE_STOCK)
def stock_transfer(request: HttpRequest) -> HttpResponse:
    return _stock_form_view(
        request,
        form_class=StockTransferForm,
        apply=lambda data, user: services.stock_transfer(
            product=data["product"], from_warehouse=data["from_warehouse"], to_warehouse=data["to_warehouse"],
            quantity=data["quantity"], reason=data.get("reason") or "", user=user,
        ),
        success=lambda data, movements: _("Moved %(quantity)s of %(sku)s from %(source)s to %(target)s.")
        % {"quantity": data["quantity"], "sku": data["product"].sku, "source": data["from_warehouse"].code,
           "target": data["to_warehouse"].code},
        title=_("Stock transfer"),
        submit_label=_("Transfer"),
    )


@require_http_methods(["GET", "POST"])
@portal_view("inventory", CHANGE_STOCK)
def stock_count(request: HttpRequest) -> HttpResponse:
    def success(data: dict[str, Any], movement: Any) -> str:
        if movement is None:
            return _("Count of %(sku)s in %(warehouse)s matches the books: nothing posted.") % {
                "sku": data["product"].sku, "warehouse": data["warehouse"].code}
        return _("Count of %(sku)s in %(warehouse)s posted a correction of %(quantity)+d.") % {
            "sku": data["product"].sku, "warehouse": data["warehouse"].code, "quantity": movement.quantity}

    return _stock_form_view(
        request,
        form_class=CycleCountForm,
        apply=lambda data, user: services.stock_count(
            product=data["product"], warehouse=data["warehouse"], counted=data["counted"],
            reason=data.get("reason") or "", user=user,
        ),
        success=success,
        title=_("Cycle count"),
        submit_label=_("Post count"),
    )
