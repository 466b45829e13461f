"""Reactions to other apps' hooks (registered in OrdersConfig.ready)."""

from __future__ import annotations

from core import outbox


def offer_stock_to_backorders(product_ids: set[int]) -> None:
    """Stock became available: reallocate waiting orders after this transaction commits."""
    outbox.enqueue("orders.tasks.reallocate_backorders_task", kwargs={"product_ids": sorted(product_ids)})
