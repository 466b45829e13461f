"""Reactions to other apps' hooks (registered in OrdersConfig.ready)."""

from __future__ import annotations

from django.db.models import Sum

from core import outbox


def offer_stock_to_backorders(product_ids: set[int]) -> None:
    """Stock became available: reallocate waiting orders after this transaction commits."""
    outbox.enqueue("orders.tasks.reallocate_backorders_task", kwargs={"product_ids": sorted(product_ids)})


def renew_promises(product_ids: set[int]) -> None:
    """Incoming supply changed (PO sent, confirmed, cancelled): re-promise waiting orders after commit."""
    outbox.enqueue("orders.tasks.repromise_orders_task", kwargs={"product_ids": sorted(product_ids)})


def backordered_units(product_ids: set[int] | None) -> dict[int, int]:
    """Units on open order lines still waiting for stock, per product (one aggregate query).

    Registered as inventory's open-demand provider: the replenishment planner and the
    available-to-promise dates count these.
    """
    from orders.models import OrderLine
    from orders.statuses import OPEN_STATUSES, OrderStatus

    lines = OrderLine.objects.filter(
        quantity_backordered__gt=0, order__status__in=OPEN_STATUSES - {OrderStatus.DRAFT}
    )
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    return dict(lines.values("product_id").annotate(units=Sum("quantity_backordered")).values_list("product_id", "units"))
