"""Reads for the orders portal: lists, detail, lookups, tracking and dashboard figures.

Every function issues a fixed number of queries whatever the number of rows it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.pagination import Page, keyset_page
from inventory.models import MovementKind, StockMovement
from orders.models import Allocation, Customer, OrderEvent, OrderLine, SalesOrder
from orders.services import ALLOCATABLE_STATUSES
from orders.statuses import (
    CANCELLABLE_STATUSES,
    MODIFIABLE_STATUSES,
    OPEN_STATUSES,
    SHIPPABLE_STATUSES,
    EventKind,
    OrderStatus,
    can_transition,
)

# sort parameter -> key columns (all in one direction; the last ones make the key unique)
ORDER_SORTS: dict[str, tuple[str, ...]] = {
    "created": ("created_at", "id"),
    "number": ("number",),
    "total": ("total", "id"),
    # follows the (status, created_at DESC) index: newest first within each status
    "status": ("status", "-created_at", "-id"),
}
DEFAULT_ORDER_SORT = "-created"


def parse_sort(value: str | None, *, allowed: dict[str, tuple[str, ...]], default: str) -> tuple[str, bool]:
    """('created', True) for '-created'; anything not whitelisted falls back to `default`."""
    value = (value or "").strip()
    name = value.removeprefix("-")
    if name not in allowed:
        value = default
        name = value.removeprefix("-")
    return name, value.startswith("-")


def order_list_queryset() -> QuerySet[SalesOrder]:
    return SalesOrder.objects.select_related("channel", "customer")


def order_page(
    queryset: QuerySet[SalesOrder], *, sort: str | None, after: str | None, before: str | None, page_size: int
) -> Page:
    """A keyset page of orders with `line_count`, `units` and `backordered_units` on each row.

    Three queries: the page's ids over the filtered orders alone (so PostgreSQL orders and limits
    before joining anything), then those rows with channel and customer, then their line figures.
    """
    name, descending = parse_sort(sort, allowed=ORDER_SORTS, default=DEFAULT_ORDER_SORT)
    keys = ORDER_SORTS[name]
    slim = queryset.select_related(None).only("id", *(key.removeprefix("-") for key in keys))
    page = keyset_page(slim, keys=keys, descending=descending, after=after, before=before, page_size=page_size)
    ids = [order.pk for order in page.items]
    rows = SalesOrder.objects.select_related("channel", "customer").in_bulk(ids) if ids else {}
    page.items = [rows[order_id] for order_id in ids if order_id in rows]
    attach_line_figures(page.items)
    page.extra["sort"] = ("-" if descending else "") + name
    return page


def attach_line_figures(orders: list[SalesOrder]) -> None:
    if not orders:
        return
    figures = {
        row["order_id"]: row
        for row in OrderLine.objects.filter(order_id__in=[o.pk for o in orders])
        .order_by()
        .values("order_id")
        .annotate(line_count=Count("id"), units=Sum("quantity"), backordered_units=Sum("quantity_backordered"))
    }
    for order in orders:
        row = figures.get(order.pk, {})
        order.line_count = row.get("line_count", 0)
        order.units = row.get("units") or 0
        order.backordered_units = row.get("backordered_units") or 0


# --- detail ---------------------------------------------------------------------------------
@dataclass
class WarehouseAllocation:
    warehouse: Any
    rows: list[Allocation] = field(default_factory=list)

    @property
    def reserved(self) -> int:
        return sum(a.quantity for a in self.rows)

    @property
    def shipped(self) -> int:
        return sum(a.quantity_shipped for a in self.rows)


@dataclass
class OrderDetail:
    order: SalesOrder
    lines: list[OrderLine]
    allocations: list[WarehouseAllocation]
    events: list[OrderEvent]
    actions: frozenset[str]


def order_detail(*, order_id: int) -> OrderDetail | None:
    """The order with everything its page shows, in four queries."""
    order = (
        SalesOrder.objects.select_related("channel", "customer", "ship_to", "created_by").filter(pk=order_id).first()
    )
    if order is None:
        return None
    lines = list(OrderLine.objects.filter(order=order).select_related("product").order_by("line_no"))
    by_warehouse: dict[int, WarehouseAllocation] = {}
    line_of = {line.pk: line for line in lines}
    for allocation in (
        Allocation.objects.filter(line__order=order)
        .select_related("warehouse")
        .order_by("warehouse__priority", "warehouse__code", "line_id")
    ):
        allocation.line = line_of[allocation.line_id]  # no extra query per row
        by_warehouse.setdefault(allocation.warehouse_id, WarehouseAllocation(allocation.warehouse)).rows.append(
            allocation
        )
    events = list(OrderEvent.objects.filter(order=order).select_related("actor").order_by("created_at", "id"))
    return OrderDetail(
        order=order,
        lines=lines,
        allocations=list(by_warehouse.values()),
        events=events,
        actions=allowed_actions(order, lines),
    )


def allowed_actions(order: SalesOrder, lines: list[OrderLine]) -> frozenset[str]:
    """The portal actions that make sense for the order's current status (the services still
    check every rule; this only decides which buttons to show)."""
    status = order.status
    actions: set[str] = set()
    if status == OrderStatus.DRAFT:
        actions.add("confirm")
    if status in ALLOCATABLE_STATUSES and any(line.quantity_backordered > 0 for line in lines):
        actions.add("allocate")
    if status == OrderStatus.ON_HOLD:
        actions.add("release")
    elif can_transition(status, OrderStatus.ON_HOLD):
        actions.add("hold")
    if status != OrderStatus.ON_HOLD and status != OrderStatus.PICKING and can_transition(status, OrderStatus.PICKING):
        actions.add("pick")
    if status in SHIPPABLE_STATUSES and any(line.quantity_allocated > 0 for line in lines):
        actions.add("ship")
    if status == OrderStatus.SHIPPED:
        actions.add("deliver")
    if status == OrderStatus.DELIVERED:
        actions.add("close")
    if status in CANCELLABLE_STATUSES:
        actions.add("cancel")
    if status in MODIFIABLE_STATUSES:
        actions.add("edit")
    return frozenset(actions)


# --- lookups --------------------------------------------------------------------------------
def customer_lookup(*, query: str, limit: int = 10) -> list[Customer]:
    query = (query or "").strip()
    if len(query) < 2:
        return []
    return list(
        Customer.objects.filter(Q(name__icontains=query) | Q(email__icontains=query)).order_by("name", "id")[:limit]
    )


# --- public tracking ------------------------------------------------------------------------
@dataclass
class TrackingView:
    number: str
    status: str
    promised_date: Any
    city: str
    country: str
    created_at: datetime
    timeline: list[dict[str, Any]]


def tracking_view(*, token: str) -> TrackingView | None:
    """What the public tracking page may show: no names, emails, streets or free-text reasons."""
    order = (
        SalesOrder.objects.filter(tracking_token=token)
        .select_related("ship_to")
        .only("id", "number", "status", "promised_date", "created_at", "ship_to__city", "ship_to__country")
        .first()
    )
    if order is None:
        return None
    timeline = [
        {"status": to_status, "at": created_at}
        for to_status, created_at in OrderEvent.objects.filter(
            order_id=order.pk, kind__in=[EventKind.CREATED, EventKind.STATUS]
        )
        .exclude(to_status="")
        .order_by("created_at", "id")
        .values_list("to_status", "created_at")
    ]
    return TrackingView(
        number=order.number,
        status=order.status,
        promised_date=order.promised_date,
        city=order.ship_to.city,
        country=order.ship_to.country,
        created_at=order.created_at,
        timeline=timeline,
    )


# --- dashboard ------------------------------------------------------------------------------
TILE_COUNT_CAP = 10_000


def capped_count(queryset: QuerySet, *, cap: int = TILE_COUNT_CAP) -> int | str:
    """COUNT over at most `cap + 1` rows: exact below the cap, '10,000+' above it."""
    number = queryset.order_by()[: cap + 1].count()
    return f"{cap:,}+" if number > cap else number


def dashboard_tiles(user: Any) -> list[dict[str, Any]]:
    """Open, backordered and on-hold orders (status index) and orders shipped today (today's
    shipment movements, by the ledger's time index). Each count stops at TILE_COUNT_CAP rows, so
    the dashboard stays cheap on a million orders."""
    start_of_day = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    shipped_today = (
        StockMovement.objects.filter(kind=MovementKind.SHIPMENT, created_at__gte=start_of_day)
        .order_by()
        .values("reference")
        .distinct()
    )
    url = reverse("orders:index")
    return [
        {"label": _("Open orders"), "value": capped_count(SalesOrder.objects.filter(status__in=OPEN_STATUSES)),
         "url": f"{url}?group=open"},
        {
            "label": _("Backordered"),
            "value": capped_count(SalesOrder.objects.filter(
                status__in=[OrderStatus.BACKORDERED, OrderStatus.PARTIALLY_ALLOCATED])),
            "url": f"{url}?status=backordered&status=partially_allocated",
        },
        {"label": _("On hold"), "value": capped_count(SalesOrder.objects.filter(status=OrderStatus.ON_HOLD)),
         "url": f"{url}?status=on_hold"},
        {"label": _("Shipped today"), "value": capped_count(shipped_today),
         "url": f"{url}?status=shipped&status=partially_shipped"},
    ]
