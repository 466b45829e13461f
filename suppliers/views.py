"""Purchasing portal: suppliers, purchase orders (create, receive, acknowledge), replenishment
suggestions with the planner button, scorecards. Thin adapters over selectors and services.

Supplier logins (group Supplier, linked to one supplier) reach only the purchase-order list,
detail, PDF and acknowledge views, and only for their own orders (404 otherwise); every other
view answers them 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError
from core.htmx import render_page
from core.models import JobRun
from core.pagination import PAGE_SIZES, page_size_from, peek_page
from core.permissions import portal_view
from suppliers import jobs, scorecards, selectors, services
from suppliers import permissions as po_permissions
from suppliers.filters import PurchaseOrderFilter
from suppliers.forms import (
    ConfirmDatesForm,
    LineFormSet,
    PurchaseOrderForm,
    ReasonForm,
    ReceiveForm,
    ScorecardPeriodForm,
    SupplierForm,
    SupplierProductForm,
    attach_service_error,
)
from suppliers.models import PurchaseOrderLine, Supplier, SupplierProduct
from suppliers.statuses import (
    ACKNOWLEDGEABLE_STATUSES,
    DATE_CONFIRMABLE_STATUSES,
    RECEIVABLE_STATUSES,
    PurchaseOrderStatus,
    can_transition,
)


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse supplier logins (they see their own purchase orders only)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if selectors.is_supplier_user(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _error(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, error.message)


@require_GET
@portal_view("purchasing")
def index(request: HttpRequest) -> HttpResponse:
    if selectors.is_supplier_user(request.user) or not request.user.has_perm("suppliers.view_supplier"):
        return redirect("suppliers:purchase_order_list")
    return redirect("suppliers:suggestion_list")


# --- suppliers ------------------------------------------------------------------------------
@require_GET
@portal_view("purchasing", "suppliers.view_supplier")
@staff_only
def supplier_list(request: HttpRequest) -> HttpResponse:
    end = timezone.localdate()
    cards = {c.supplier_id: c for c in scorecards.supplier_scorecards(start=end - timedelta(days=90), end=end)}
    suppliers = list(Supplier.objects.order_by("name"))
    rows = [(supplier, cards.get(supplier.pk)) for supplier in suppliers]
    return render(request, "suppliers/supplier_list.html", {
        "rows": rows, "can_add": request.user.has_perm("suppliers.add_supplier"),
    })


@require_GET
@portal_view("purchasing", "suppliers.view_supplier")
@staff_only
def supplier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = selectors.supplier_detail(pk=pk)
    if supplier is None:
        raise Http404
    end = timezone.localdate()
    start = (end.replace(day=1) - timedelta(days=150)).replace(day=1)
    overall = scorecards.supplier_scorecards(start=end - timedelta(days=90), end=end, supplier_ids=[pk])
    monthly = sorted(
        scorecards.supplier_scorecards(start=start, end=end, supplier_ids=[pk], by_month=True),
        key=lambda card: card.period or end, reverse=True,
    )
    recent = selectors.purchase_orders_for(user=request.user).filter(supplier=supplier).order_by("-created_at")[:10]
    return render(request, "suppliers/supplier_detail.html", {
        "supplier": supplier, "card": overall[0] if overall else None, "monthly": monthly,
        "recent_orders": recent, "standing": scorecards.supplier_standing(supplier_id=pk),
        "can_change": request.user.has_perm("suppliers.change_supplier"),
    })


def _supplier_form(request: HttpRequest, supplier: Supplier) -> HttpResponse:
    form = SupplierForm(request.POST or None, instance=supplier)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.supplier_save(supplier=form.save(commit=False), user=request.user)
        except DomainError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Supplier %(name)s saved.") % {"name": saved.name})
            return redirect("suppliers:supplier_detail", pk=saved.pk)
    return render(request, "suppliers/supplier_form.html", {"form": form, "supplier": supplier})


@portal_view("purchasing", "suppliers.add_supplier")
@staff_only
def supplier_create(request: HttpRequest) -> HttpResponse:
    return _supplier_form(request, Supplier())


@portal_view("purchasing", "suppliers.change_supplier")
@staff_only
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _supplier_form(request, get_object_or_404(Supplier, pk=pk))


@portal_view("purchasing", "suppliers.change_supplier")
@staff_only
def supplier_product_edit(request: HttpRequest, supplier_pk: int, pk: int | None = None) -> HttpResponse:
    supplier = get_object_or_404(Supplier, pk=supplier_pk)
    instance = get_object_or_404(SupplierProduct, pk=pk, supplier=supplier) if pk else SupplierProduct(supplier=supplier)
    form = SupplierProductForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        offer = form.save(commit=False)
        offer.product = form.cleaned_data["sku"]
        try:
            services.supplier_product_save(
                supplier_product=offer, price_breaks=form.cleaned_data["price_breaks"], user=request.user
            )
        except DomainError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Catalogue entry saved."))
            return redirect("suppliers:supplier_detail", pk=supplier.pk)
    return render(request, "suppliers/supplierproduct_form.html", {"form": form, "supplier": supplier})


# --- purchase orders ------------------------------------------------------------------------
@require_GET
@portal_view("purchasing", "suppliers.view_purchaseorder")
def purchase_order_list(request: HttpRequest) -> HttpResponse:
    base = selectors.purchase_order_list(user=request.user)
    order_filter = PurchaseOrderFilter(request.GET or None, queryset=base)
    order_filter.filters["supplier"].queryset = selectors.suppliers_for(user=request.user)
    order_filter.form.fields["supplier"].queryset = selectors.suppliers_for(user=request.user)
    queryset = order_filter.qs if order_filter.is_bound and order_filter.is_valid() else base
    page = peek_page(queryset, page=request.GET.get("page", 1), page_size=page_size_from(request.GET.get("per_page")))
    return render_page(request, "suppliers/purchaseorder_list.html", "suppliers/partials/purchaseorder_results.html", {
        "filter": order_filter, "page": page, "page_sizes": PAGE_SIZES,
        "is_supplier": selectors.is_supplier_user(request.user),
        "can_add": request.user.has_perm("suppliers.add_purchaseorder") and not selectors.is_supplier_user(request.user),
    })


def _detail_or_404(request: HttpRequest, pk: int) -> Any:
    purchase_order = selectors.purchase_order_detail(user=request.user, pk=pk)
    if purchase_order is None:
        raise Http404
    return purchase_order


@require_GET
@portal_view("purchasing", "suppliers.view_purchaseorder")
def purchase_order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    po = _detail_or_404(request, pk)
    is_supplier = selectors.is_supplier_user(request.user)

    def staff_may(perm: str) -> bool:
        # Supplier logins only acknowledge; staff see each button their own permission allows.
        return not is_supplier and request.user.has_perm(perm)

    may_acknowledge = request.user.has_perm(po_permissions.ACKNOWLEDGE)
    lines = list(po.lines.all())
    return render(request, "suppliers/purchaseorder_detail.html", {
        "po": po, "lines": lines, "is_supplier": is_supplier,
        "can_send": staff_may(po_permissions.SEND) and can_transition(po.status, PurchaseOrderStatus.SENT),
        "can_cancel": staff_may(po_permissions.CANCEL) and can_transition(po.status, PurchaseOrderStatus.CANCELLED),
        "can_close": staff_may(po_permissions.CANCEL) and can_transition(po.status, PurchaseOrderStatus.CLOSED),
        "can_receive": staff_may(po_permissions.RECEIVE) and po.status in RECEIVABLE_STATUSES,
        "can_email": staff_may(po_permissions.SEND) and po.status in RECEIVABLE_STATUSES,
        "can_acknowledge": may_acknowledge and po.status in ACKNOWLEDGEABLE_STATUSES,
        "can_confirm_dates": may_acknowledge and po.status in DATE_CONFIRMABLE_STATUSES,
        "dates_form": ConfirmDatesForm(lines=lines),
        "reason_form": ReasonForm(),
    })


PDF_RETRY_AFTER_SECONDS = 2


@require_GET
@portal_view("purchasing", "suppliers.view_purchaseorder")
def purchase_order_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The cached PDF, or 202 "being prepared" (the page reloads itself) while a worker renders
    it: a web worker never spends seconds in WeasyPrint (suppliers.documents)."""
    from suppliers.documents import purchase_order_pdf_or_request

    po = _detail_or_404(request, pk)
    pdf = purchase_order_pdf_or_request(purchase_order=po, language=request.LANGUAGE_CODE)
    if pdf is None:
        response = render(request, "suppliers/purchaseorder_pdf_pending.html",
                          {"po": po, "is_supplier": selectors.is_supplier_user(request.user),
                           "retry_after": PDF_RETRY_AFTER_SECONDS}, status=202)
        response["Retry-After"] = str(PDF_RETRY_AFTER_SECONDS)
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{po.number}.pdf"'
    return response


@portal_view("purchasing", "suppliers.add_purchaseorder")
@staff_only
def purchase_order_create(request: HttpRequest) -> HttpResponse:
    form = PurchaseOrderForm(request.POST or None, initial={"supplier": request.GET.get("supplier")})
    formset = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines = [
            services.PurchaseOrderLineInput(
                product=row["sku"].strip(), quantity=row["quantity"], unit_cost=row.get("unit_cost"),
            )
            for row in formset.cleaned_data
            if row and not row.get("DELETE")
        ]
        try:
            created = services.purchase_order_create(
                supplier=form.cleaned_data["supplier"], warehouse=form.cleaned_data["warehouse"], lines=lines,
                notes=form.cleaned_data["notes"], user=request.user,
            )
        except DomainError as error:
            attach_service_error(form, error)
        else:
            for warning in created.warnings:
                messages.warning(request, warning)
            messages.success(request, _("Purchase order %(number)s created as a draft.")
                             % {"number": created.purchase_order.number})
            return redirect("suppliers:purchase_order_detail", pk=created.purchase_order.pk)
    return render(request, "suppliers/purchaseorder_form.html", {"form": form, "formset": formset})


@require_POST
@portal_view("purchasing", po_permissions.VIEW)
@staff_only
def purchase_order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Send (approve), e-mail again, cancel or close: each needs its own permission."""
    if action not in po_permissions.PORTAL_ACTIONS:
        raise Http404
    if not request.user.has_perm(po_permissions.PORTAL_ACTIONS[action]):
        raise PermissionDenied
    po = _detail_or_404(request, pk)
    try:
        if action == "send":
            services.purchase_order_send(purchase_order=po, user=request.user)
            messages.success(request, _("%(number)s approved; it is being e-mailed to the supplier.") % {"number": po.number})
        elif action == "cancel":
            form = ReasonForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Give a reason for cancelling."))
                return redirect("suppliers:purchase_order_detail", pk=po.pk)
            services.purchase_order_cancel(purchase_order=po, reason=form.cleaned_data["reason"], user=request.user)
            messages.success(request, _("%(number)s cancelled.") % {"number": po.number})
        elif action == "close":
            services.purchase_order_close(purchase_order=po, reason=request.POST.get("reason", ""), user=request.user)
            messages.success(request, _("%(number)s closed.") % {"number": po.number})
        else:
            services.purchase_order_email_again(purchase_order=po, user=request.user)
            messages.success(request, _("%(number)s will be e-mailed again.") % {"number": po.number})
    except DomainError as error:
        _error(request, error)
    return redirect("suppliers:purchase_order_detail", pk=po.pk)


@portal_view("purchasing", po_permissions.RECEIVE)
@staff_only
def purchase_order_receive(request: HttpRequest, pk: int) -> HttpResponse:
    po = _detail_or_404(request, pk)
    lines = [line for line in po.lines.all() if line.quantity_open > 0] or list(po.lines.all())
    form = ReceiveForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        quantities = form.quantities()
        try:
            receipt = services.purchase_order_receive(
                purchase_order=po,
                lines=[services.ReceiptLineInput(line_id=k, quantity=v) for k, v in quantities.items()],
                delivery_note=form.cleaned_data["delivery_note"], user=request.user,
            )
        except DomainError as error:
            attach_service_error(form, error)
        else:
            messages.success(request, _("Receipt %(number)s booked; stock is updated.") % {"number": receipt.number})
            return redirect("suppliers:purchase_order_detail", pk=po.pk)
    return render(request, "suppliers/purchaseorder_receive.html", {
        "po": po, "form": form, "receivable": po.status in RECEIVABLE_STATUSES,
    })


@require_POST
@portal_view("purchasing", po_permissions.ACKNOWLEDGE)
def purchase_order_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge (when still `sent`) and/or confirm delivery dates per line."""
    po = _detail_or_404(request, pk)
    form = ConfirmDatesForm(request.POST, lines=list(po.lines.all()))
    if not form.is_valid():
        messages.error(request, _("Enter valid dates."))
        return redirect("suppliers:purchase_order_detail", pk=po.pk)
    try:
        if po.status in ACKNOWLEDGEABLE_STATUSES:
            services.purchase_order_acknowledge(purchase_order=po, confirmed_dates=form.dates(), user=request.user)
            messages.success(request, _("%(number)s acknowledged.") % {"number": po.number})
        else:
            services.purchase_order_confirm_dates(purchase_order=po, dates=form.dates(), user=request.user)
            messages.success(request, _("Delivery dates confirmed."))
    except DomainError as error:
        _error(request, error)
    return redirect("suppliers:purchase_order_detail", pk=po.pk)


# --- replenishment --------------------------------------------------------------------------
def _latest_run() -> JobRun | None:
    return JobRun.objects.filter(job__in=jobs.JOBS).order_by("-started_at", "-id").first()


@require_GET
@portal_view("purchasing", "suppliers.view_purchaseorder")
@staff_only
def suggestion_list(request: HttpRequest) -> HttpResponse:
    return render(request, "suppliers/suggestion_list.html", {
        "drafts": selectors.open_suggestions(), "run": _latest_run(),
        "can_approve": request.user.has_perm(po_permissions.SEND),
        "can_edit": request.user.has_perm(po_permissions.EDIT_DRAFT),
        "can_run": request.user.has_perm(po_permissions.CREATE),
    })


@require_POST
@portal_view("purchasing", po_permissions.SEND)
@staff_only
def suggestion_approve(request: HttpRequest) -> HttpResponse:
    ids = [int(value) for value in request.POST.getlist("purchase_order") if value.isdigit()]
    if not ids:
        messages.error(request, _("Select at least one suggested order."))
        return redirect("suppliers:suggestion_list")
    allowed = set(selectors.open_suggestions().filter(pk__in=ids).values_list("pk", flat=True))
    approved = 0
    for pk in sorted(allowed):
        try:
            services.purchase_order_send(purchase_order=pk, user=request.user)
            approved += 1
        except DomainError as error:
            _error(request, error)
    messages.success(request, _("%(count)s purchase order(s) approved and sent.") % {"count": approved})
    return redirect("suppliers:suggestion_list")


@require_POST
@portal_view("purchasing", po_permissions.EDIT_DRAFT)
@staff_only
def suggestion_line_quantity(request: HttpRequest, pk: int) -> HttpResponse:
    line = get_object_or_404(PurchaseOrderLine, pk=pk)
    try:
        quantity = int(request.POST.get("quantity", ""))
    except ValueError:
        messages.error(request, _("Quantity must be a whole number."))
        return redirect("suppliers:suggestion_list")
    try:
        services.purchase_order_line_set_quantity(line=line, quantity=quantity, user=request.user)
        messages.success(request, _("Suggestion updated."))
    except DomainError as error:
        _error(request, error)
    return redirect("suppliers:suggestion_list")


@require_POST
@portal_view("purchasing", po_permissions.CREATE)
@staff_only
def replenishment_run(request: HttpRequest) -> HttpResponse:
    run = jobs.request_manual_run(user=request.user)
    messages.info(request, _("The replenishment planner was started."))
    return redirect(reverse("suppliers:suggestion_list") + f"?run={run.pk}")


@require_GET
@portal_view("purchasing", "suppliers.view_purchaseorder")
@staff_only
def replenishment_run_status(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(JobRun, pk=pk, job__in=jobs.JOBS)
    response = render(request, "suppliers/partials/run_status.html", {"run": run})
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- scorecards -----------------------------------------------------------------------------
@require_GET
@portal_view("purchasing", "suppliers.view_supplier")
@staff_only
def scorecard_ranking(request: HttpRequest) -> HttpResponse:
    form = ScorecardPeriodForm(request.GET or None)
    days = (form.cleaned_data.get("days") if form.is_valid() else None) or 90
    end = timezone.localdate()
    return render(request, "suppliers/scorecard_ranking.html", {
        "form": form, "cards": scorecards.ranking(start=end - timedelta(days=days), end=end), "days": days,
    })
