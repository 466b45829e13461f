"""Reads of purchasing: scoped purchase-order lists, supply dates (ATP), low stock, dashboard."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import hooks as inventory_hooks
from inventory.models import StockLevel
from suppliers.models import (
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    ReorderPolicy,
    Supplier,
    SupplierProduct,
    SupplierUser,
)
from suppliers.statuses import COMMITTED_STATUSES, OPEN_STATUSES, PurchaseOrderSource, PurchaseOrderStatus

NO_SUPPLIER = -1  # a Supplier-role login without a link sees nothing


# --- who sees what --------------------------------------------------------------------------
def supplier_scope(user: Any) -> int | None:
    """The supplier a portal login is limited to, NO_SUPPLIER for an unlinked Supplier-role
    login, or None for staff (who see every supplier)."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return None
    if "_supplier_scope" in user.__dict__:  # once per request user
        return user.__dict__["_supplier_scope"]
    link = SupplierUser.objects.filter(user=user).values_list("supplier_id", flat=True).first()
    if link is None and user.groups.filter(name="Supplier").exists():
        link = NO_SUPPLIER
    user.__dict__["_supplier_scope"] = link
    return link


def is_supplier_user(user: Any) -> bool:
    return supplier_scope(user) is not None


def purchase_orders_for(*, user: Any) -> QuerySet[PurchaseOrder]:
    """Purchase orders this user may see: a supplier login only its own, never drafts."""
    queryset = PurchaseOrder.objects.select_related("supplier", "warehouse")
    scope = supplier_scope(user)
    if scope is not None:
        queryset = queryset.filter(supplier_id=scope).exclude(status=PurchaseOrderStatus.DRAFT)
    return queryset


def suppliers_for(*, user: Any) -> QuerySet[Supplier]:
    scope = supplier_scope(user)
    queryset = Supplier.objects.all()
    if scope is not None:
        queryset = queryset.filter(pk=scope)
    return queryset


def purchase_order_list(*, user: Any) -> QuerySet[PurchaseOrder]:
    return purchase_orders_for(user=user).order_by("-created_at", "-id")


def purchase_order_detail(*, user: Any, pk: int) -> PurchaseOrder | None:
    """The order with lines (product), receipts and events in a constant number of queries."""
    return (
        purchase_orders_for(user=user)
        .select_related("created_by", "approved_by")
        .prefetch_related(
            Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product").order_by("line_no")),
            Prefetch("receipts", queryset=GoodsReceipt.objects.select_related("received_by").prefetch_related("lines")),
            Prefetch("events", queryset=PurchaseOrderEvent.objects.select_related("user")),
        )
        .filter(pk=pk)
        .first()
    )


def supplier_detail(*, pk: int) -> Supplier | None:
    return (
        Supplier.objects.prefetch_related(
            Prefetch(
                "products",
                queryset=SupplierProduct.objects.select_related("product").prefetch_related("price_breaks")
                .order_by("product__sku"),
            ),
            Prefetch("portal_users", queryset=SupplierUser.objects.select_related("user")),
        )
        .filter(pk=pk)
        .first()
    )


def open_suggestions() -> QuerySet[PurchaseOrder]:
    """Planner drafts waiting for purchasing's approval, with their lines."""
    return (
        PurchaseOrder.objects.filter(status=PurchaseOrderStatus.DRAFT, source=PurchaseOrderSource.PLANNER)
        .select_related("supplier", "warehouse")
        .prefetch_related(
            Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product", "policy").order_by("line_no"))
        )
        .order_by("supplier__name", "warehouse__code", "id")
    )


def reorder_policies() -> QuerySet[ReorderPolicy]:
    return ReorderPolicy.objects.select_related("product", "warehouse", "preferred_supplier").order_by(
        "product__sku", "warehouse__code"
    )


# --- available to promise -------------------------------------------------------------------
def expected_supply_dates(
    product_ids: set[int], today: date, *, ahead: dict[int, int] | None = None, wanted: dict[int, int] | None = None,
) -> dict[int, date]:
    """When `wanted` more units of each product (default 1) can be promised, after the `ahead`
    units owed to earlier orders (default: every waiting backorder, `inventory.hooks.open_demand`)
    — fills inventory.hooks.EXPECTED_SUPPLY_DATES.

    Open committed PO lines are taken in date order (the supplier's confirmed date, else the
    expected date) and fill the queue: the answer is the date of the line by which the incoming
    quantity covers what is owed ahead plus what is wanted. Without enough incoming quantity:
    today plus the lead time of the preferred (else the fastest) supplier. Three queries for any
    number of products.
    """
    ids = set(product_ids)
    if not ids:
        return {}
    lines = (
        PurchaseOrderLine.objects.filter(
            product_id__in=ids, purchase_order__status__in=COMMITTED_STATUSES, quantity__gt=F("quantity_received")
        )
        .annotate(open_quantity=F("quantity") - F("quantity_received"))
        .values_list("product_id", "open_quantity", "confirmed_date", "expected_date")
    )
    incoming: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for product_id, open_quantity, confirmed, expected in lines:
        when = confirmed or expected or today
        incoming[product_id].append((max(when, today), open_quantity))
    if ahead is None:
        owed_provider = getattr(inventory_hooks, "open_demand", None)
        ahead = owed_provider(ids) if owed_provider is not None else {}
    result: dict[int, date] = {}
    for product_id, supplies in incoming.items():
        needed = ahead.get(product_id, 0) + max(1, (wanted or {}).get(product_id, 1))
        covered = 0
        for when, quantity in sorted(supplies):
            covered += quantity
            if covered >= needed:
                result[product_id] = when
                break
    missing = ids - set(result)
    if missing:
        lead_times: dict[int, tuple[bool, int]] = {}
        for product_id, preferred, lead, default_lead in SupplierProduct.objects.filter(
            product_id__in=missing, active=True, supplier__active=True
        ).values_list("product_id", "preferred", "lead_time_days", "supplier__default_lead_time_days"):
            days = lead or default_lead
            best = lead_times.get(product_id)
            candidate = (not preferred, days)
            if best is None or candidate < best:
                lead_times[product_id] = candidate
        for product_id, (_not_preferred, days) in lead_times.items():
            result[product_id] = today + timedelta(days=days)
    return result


# --- low stock ------------------------------------------------------------------------------
def low_stock_rows(base: QuerySet[StockLevel]) -> QuerySet[StockLevel]:
    """Rows at or below their policy's reorder level where a policy exists, else at or below
    the product's threshold (fills inventory.hooks.LOW_STOCK)."""
    policy = ReorderPolicy.objects.filter(
        product_id=OuterRef("product_id"), warehouse_id=OuterRef("warehouse_id"), active=True
    )
    return base.annotate(
        policy_level=Subquery(policy.values("reorder_level")[:1]),
        has_policy=Exists(policy),
    ).filter(
        Q(has_policy=True, available__lte=F("policy_level"))
        | Q(has_policy=False, product__low_stock_threshold__gt=0, available__lte=F("product__low_stock_threshold"))
    )


# --- dashboard ------------------------------------------------------------------------------
def dashboard_tiles(user: Any) -> list[dict[str, Any]]:
    if is_supplier_user(user):
        scoped = purchase_orders_for(user=user)
        return [{
            "label": _("Orders to acknowledge"),
            "value": scoped.filter(status=PurchaseOrderStatus.SENT).count(),
            "url": reverse("suppliers:purchase_order_list") + "?status=sent",
        }]
    today = timezone.localdate()
    open_value = (
        PurchaseOrderLine.objects.filter(purchase_order__status__in=COMMITTED_STATUSES)
        .aggregate(value=Sum(Greatest(F("quantity") - F("quantity_received"), 0) * F("unit_cost")))["value"]
    )
    return [
        {
            "label": _("Suggestions to approve"),
            "value": open_suggestions().count(),
            "url": reverse("suppliers:suggestion_list"),
        },
        {
            "label": _("Open purchase orders"),
            "value": PurchaseOrder.objects.filter(status__in=OPEN_STATUSES).count(),
            "url": reverse("suppliers:purchase_order_list"),
        },
        {
            "label": _("Overdue PO lines"),
            "value": PurchaseOrderLine.objects.filter(
                purchase_order__status__in=COMMITTED_STATUSES, quantity__gt=F("quantity_received"),
            ).filter(Q(confirmed_date__lt=today) | Q(confirmed_date__isnull=True, expected_date__lt=today)).count(),
            "url": reverse("suppliers:purchase_order_list") + "?overdue=1",
        },
        {
            "label": _("Open PO value"),
            "value": int(open_value or 0),
            "url": reverse("suppliers:scorecard_ranking"),
        },
    ]
