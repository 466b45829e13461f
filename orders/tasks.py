"""Thin tasks: ids in, one service call. Enqueued through the outbox (exactly-once DB effects).

Services import this module; the tasks import services inside their bodies (core.outbox).
"""

from __future__ import annotations

from core.outbox import outbox_task
from orders import notifications
from orders.models import SalesOrder


@outbox_task(name="orders.tasks.order_placed_task", ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=True, max_retries=5)
def order_placed_task(order_id: int) -> None:
    order = SalesOrder.objects.select_related("customer").filter(pk=order_id).first()
    if order is not None:
        notifications.send_order_confirmation(order)


@outbox_task(name="orders.tasks.order_status_changed_task", ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=True, max_retries=5)
def order_status_changed_task(order_id: int, from_status: str, to_status: str) -> None:
    order = SalesOrder.objects.select_related("customer").filter(pk=order_id).first()
    if order is not None:
        notifications.status_changed(order, from_status, to_status)


@outbox_task(name="orders.tasks.reallocate_backorders_task", ignore_result=True)
def reallocate_backorders_task(product_ids: list[int] | None = None) -> int:
    from orders import services

    return services.reallocate_backorders(product_ids=product_ids)


@outbox_task(name="orders.tasks.repromise_orders_task", ignore_result=True)
def repromise_orders_task(product_ids: list[int]) -> int:
    from orders import services

    return services.repromise_orders(product_ids=product_ids)
