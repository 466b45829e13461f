"""Reactions to other apps' hook points (filled in OrdersConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from core import outbox
from orders import tasks


def offer_stock_to_backorders(product_ids: set[int]) -> None:
    """Stock became available: reallocate waiting orders after this transaction commits."""
    outbox.enqueue(tasks.reallocate_backorders_task, kwargs={"product_ids": sorted(product_ids)})


def renew_promises(product_ids: set[int]) -> None:
    """Incoming supply changed (PO sent, confirmed, cancelled): re-promise waiting orders after commit."""
    outbox.enqueue(tasks.repromise_orders_task, kwargs={"product_ids": sorted(product_ids)})


def backordered_units(product_ids: set[int] | None, *, before: Any = None) -> dict[int, int]:
    """Units on open order lines still waiting for stock, per product (one aggregate query);
    with `before` (a saved order), only those of orders placed before it — its place in the queue.

    Fills inventory.hooks.OPEN_DEMAND: the replenishment planner and the
    available-to-promise dates count these.
    """
    from django.db.models import Q

    from orders.models import OrderLine
    from orders.statuses import OPEN_STATUSES, OrderStatus

    lines = OrderLine.objects.filter(
        quantity_backordered__gt=0, order__status__in=OPEN_STATUSES - {OrderStatus.DRAFT}
    )
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    if before is not None:
        lines = lines.filter(
            Q(order__created_at__lt=before.created_at) | Q(order__created_at=before.created_at, order_id__lt=before.pk)
        )
    return dict(lines.values("product_id").annotate(units=Sum("quantity_backordered")).values_list("product_id", "units"))
