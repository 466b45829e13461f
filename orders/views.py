"""Orders portal: list with filters and bulk actions, detail with actions, phone/store order form,
HTMX lookups, and the public tracking page. Thin adapters over orders.selectors / orders.services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import DomainError
from core.htmx import render_page
from core.pagination import PAGE_SIZES, page_size_from
from core.permissions import portal_view
from inventory.selectors import stock_by_warehouse
from orders import selectors, services
from orders.filters import OrderFilter
from orders.forms import BulkActionForm, LineFormSet, OrderForm, ReasonForm, attach_service_error
from orders.models import Channel, Customer, SalesOrder
from orders.statuses import MODIFIABLE_STATUSES, ChannelKind, OrderStatus

MAX_BULK_MESSAGES = 20
CHANGE_ORDER = "orders.change_salesorder"
FULFIL_ORDER = "orders.fulfil_salesorder"
# Floor work that `fulfil_salesorder` allows without the right to edit, hold or cancel orders.
FULFIL_ACTIONS = frozenset({"pick", "ship", "deliver"})


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


# --- list -----------------------------------------------------------------------------------
@require_GET
@portal_view("orders", "orders.view_salesorder")
def order_list(request: HttpRequest) -> HttpResponse:
    order_filter = OrderFilter(request.GET or None, queryset=selectors.order_list_queryset())
    queryset = order_filter.qs if order_filter.is_bound and order_filter.is_valid() else selectors.order_list_queryset()
    page = selectors.order_page(
        queryset,
        sort=request.GET.get("sort"),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        page_size=page_size_from(request.GET.get("per_page")),
    )
    customer = None
    if order_filter.is_bound and order_filter.is_valid() and order_filter.form.cleaned_data.get("customer"):
        customer = Customer.objects.filter(pk=order_filter.form.cleaned_data["customer"]).first()
    customer_query = request.GET.copy()
    for name in ("customer", "after", "before"):
        customer_query.pop(name, None)
    context = {
        "filter": order_filter,
        "page": page,
        # built once: each row's customer link adds its own id
        "customer_query": customer_query.urlencode() + "&" if customer_query else "",
        "sort": page.extra["sort"],
        "filtered_customer": customer,
        "can_change": request.user.has_perm("orders.change_salesorder"),
        "can_add": request.user.has_perm("orders.add_salesorder"),
        "page_sizes": PAGE_SIZES,
    }
    return render_page(request, "orders/order_list.html", "orders/partials/order_results.html", context)


index = order_list


def _bulk_call(action: str) -> Callable[..., Any]:
    return {
        "allocate": lambda order_id, user, reason: services.allocate_order(order=order_id, user=user),
        "hold": lambda order_id, user, reason: services.hold_order(order=order_id, reason=reason, user=user),
        "cancel": lambda order_id, user, reason: services.cancel_order(order=order_id, reason=reason, user=user),
    }[action]


@require_POST
@portal_view("orders", "orders.change_salesorder")
def order_bulk_action(request: HttpRequest) -> HttpResponse:
    """Run one service per selected order; report each failure, never fail the whole batch."""
    back = _safe_next(request, reverse("orders:order_list"))
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return HttpResponseRedirect(back)
    action, ids, reason = form.cleaned_data["action"], form.cleaned_data["ids"], form.cleaned_data["reason"]
    numbers = dict(SalesOrder.objects.filter(pk__in=ids).values_list("pk", "number"))
    call = _bulk_call(action)
    done: list[str] = []
    failed: list[tuple[str, str]] = []
    for order_id in ids:
        label = numbers.get(order_id, f"#{order_id}")
        if order_id not in numbers:
            failed.append((label, _("No such order.")))
            continue
        try:
            call(order_id, request.user, reason)
        except DomainError as error:
            failed.append((label, error.message))
        else:
            done.append(label)
    verb = dict(BulkActionForm.ACTIONS)[action]
    if done:
        messages.success(
            request,
            _("%(action)s: %(count)s order(s) done — %(numbers)s.")
            % {"action": verb, "count": len(done), "numbers": ", ".join(done)},
        )
    for label, message in failed[:MAX_BULK_MESSAGES]:
        messages.error(request, _("%(action)s %(number)s failed: %(reason)s")
                       % {"action": verb, "number": label, "reason": message})
    if len(failed) > MAX_BULK_MESSAGES:
        messages.error(request, _("…and %(count)s more failures.") % {"count": len(failed) - MAX_BULK_MESSAGES})
    return HttpResponseRedirect(back)


# --- detail and actions ---------------------------------------------------------------------
@require_GET
@portal_view("orders", "orders.view_salesorder")
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.order_detail(order_id=pk)
    if detail is None:
        raise Http404
    return render(
        request,
        "orders/order_detail.html",
        {
            "detail": detail,
            "order": detail.order,
            "actions": frozenset(action for action in detail.actions if may_run_action(request.user, action)),
            "tracking_path": reverse("track", args=[detail.order.tracking_token]),
        },
    )


ORDER_ACTIONS: dict[str, tuple[Callable[..., Any], Any]] = {
    "confirm": (lambda order, user, reason: services.confirm_order(order=order, user=user),
                gettext_lazy("Order confirmed.")),
    "allocate": (lambda order, user, reason: services.allocate_order(order=order, user=user),
                 gettext_lazy("Allocation done.")),
    "hold": (lambda order, user, reason: services.hold_order(order=order, reason=reason, user=user),
             gettext_lazy("Order put on hold.")),
    "release": (lambda order, user, reason: services.release_hold(order=order, user=user),
                gettext_lazy("Hold released.")),
    "pick": (lambda order, user, reason: services.start_picking(order=order, user=user),
             gettext_lazy("Picking started.")),
    "ship": (lambda order, user, reason: services.ship_order(order=order, user=user),
             gettext_lazy("Allocated units shipped.")),
    "deliver": (lambda order, user, reason: services.mark_delivered(order=order, user=user),
                gettext_lazy("Order marked as delivered.")),
    "close": (lambda order, user, reason: services.close_order(order=order, user=user),
              gettext_lazy("Order closed.")),
    "cancel": (lambda order, user, reason: services.cancel_order(order=order, reason=reason, user=user),
               gettext_lazy("Order cancelled; its reserved stock is available again.")),
}


def may_run_action(user: Any, action: str) -> bool:
    """Pick, ship and deliver need `fulfil_salesorder` (or `change_salesorder`); every other
    action — confirm, allocate, hold, release, close, cancel, edit, and unknown ones — `change`."""
    if user.has_perm(CHANGE_ORDER):
        return True
    return action in FULFIL_ACTIONS and user.has_perm(FULFIL_ORDER)


@require_POST
@portal_view("orders", "orders.view_salesorder")
def order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One status action on one order; a refused action is a message, never a 500."""
    if not may_run_action(request.user, action):
        raise PermissionDenied
    if action not in ORDER_ACTIONS:
        raise Http404
    order = get_object_or_404(SalesOrder.objects.only("id", "number"), pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    call, success = ORDER_ACTIONS[action]
    try:
        call(order.pk, request.user, reason)
    except DomainError as error:
        messages.error(request, _("%(number)s: %(reason)s") % {"number": order.number, "reason": error.message})
        return redirect("orders:order_detail", pk=order.pk)
    messages.success(request, success)
    return redirect("orders:order_detail", pk=order.pk)


# --- create / edit --------------------------------------------------------------------------
def _default_channel_code() -> str | None:
    channel = (
        Channel.objects.filter(active=True, kind=ChannelKind.PHONE).order_by("code").values_list("code", flat=True).first()
    )
    return channel


@require_http_methods(["GET", "POST"])
@portal_view("orders", "orders.add_salesorder")
def order_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = OrderForm(request.POST)
        formset = LineFormSet(request.POST, prefix="lines")
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                placed = services.place_order(
                    channel=data["channel"].code,
                    customer=form.customer_input(),
                    ship_to=form.address_input(),
                    lines=formset.line_inputs(),
                    external_ref=data.get("external_ref") or "",
                    allow_backorder=bool(data.get("allow_backorder")),
                    requested_date=data.get("requested_date"),
                    notes=data.get("notes") or "",
                    user=request.user,
                )
            except DomainError as error:
                attach_service_error(error, form=form, formset=formset)
            else:
                order = placed.order
                if placed.created:
                    messages.success(
                        request,
                        _("Order %(number)s placed: %(status)s.")
                        % {"number": order.number, "status": OrderStatus(order.status).label},
                    )
                else:
                    messages.info(request, _("An order with this reference exists already: %(number)s.")
                                  % {"number": order.number})
                return redirect("orders:order_detail", pk=order.pk)
    else:
        form = OrderForm(initial={"channel": _default_channel_code(), "ship_country": "CN", "allow_backorder": True})
        formset = LineFormSet(prefix="lines")
    return render(request, "orders/order_form.html", {"form": form, "formset": formset, "order": None})


@require_http_methods(["GET", "POST"])
@portal_view("orders", "orders.change_salesorder")
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.order_detail(order_id=pk)
    if detail is None:
        raise Http404
    order = detail.order
    if order.status not in MODIFIABLE_STATUSES:
        messages.error(request, _("An order that is %(status)s can no longer be changed.")
                       % {"status": OrderStatus(order.status).label})
        return redirect("orders:order_detail", pk=order.pk)
    address = order.ship_to
    initial = {
        "channel": order.channel.code, "customer_name": order.customer.name, "customer_email": order.customer.email,
        "customer_phone": order.customer.phone, "ship_name": address.name, "ship_line1": address.line1,
        "ship_line2": address.line2, "ship_city": address.city, "ship_region": address.region,
        "ship_postal_code": address.postal_code, "ship_country": address.country,
        "external_ref": order.external_ref, "requested_date": order.requested_date, "notes": order.notes,
        "allow_backorder": order.allow_backorder,
    }
    line_initial = [
        {"sku": line.product.sku, "quantity": line.quantity, "unit_price": line.unit_price} for line in detail.lines
    ]
    if request.method == "POST":
        form = OrderForm(request.POST, initial=initial, editing=order)
        formset = LineFormSet(request.POST, prefix="lines", initial=line_initial)
        if form.is_valid() and formset.is_valid():
            try:
                services.modify_order(
                    order=order.pk, lines=formset.line_inputs(), ship_to=form.address_input(), user=request.user
                )
            except DomainError as error:
                attach_service_error(error, form=form, formset=formset)
            else:
                messages.success(request, _("Order %(number)s updated.") % {"number": order.number})
                return redirect("orders:order_detail", pk=order.pk)
    else:
        form = OrderForm(initial=initial, editing=order)
        formset = LineFormSet(prefix="lines", initial=line_initial)
    return render(request, "orders/order_form.html", {"form": form, "formset": formset, "order": order})


# --- HTMX helpers ---------------------------------------------------------------------------
@require_GET
@portal_view("orders", "orders.view_customer")
def customer_lookup(request: HttpRequest) -> HttpResponse:
    customers = selectors.customer_lookup(query=request.GET.get("customer_search", "") or request.GET.get("q", ""))
    response = render(request, "orders/partials/customer_lookup.html", {"customers": customers})
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@portal_view("orders", "orders.view_salesorder")
def sku_availability(request: HttpRequest) -> HttpResponse:
    """Available units per warehouse for the SKU typed in a line (any `…sku` parameter)."""
    sku = request.GET.get("sku", "")
    if not sku:
        sku = next((value for name, value in request.GET.items() if name.endswith("sku")), "")
    sku = sku.strip()
    product, rows = stock_by_warehouse(sku=sku) if sku else (None, [])
    response = render(
        request, "orders/partials/sku_availability.html", {"sku": sku, "product": product, "rows": rows}
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- public tracking ------------------------------------------------------------------------
@require_GET
def track(request: HttpRequest, token: str) -> HttpResponse:
    view = selectors.tracking_view(token=token) if len(token) <= 64 else None
    if view is None:
        raise Http404
    response = render(request, "orders/track.html", {"tracking": view})
    response["X-Robots-Tag"] = "noindex"
    return response
