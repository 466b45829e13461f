"""Available-to-promise: when incoming supply changes, waiting orders get new promised dates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import OutboxMessage
from inventory.tests.factories import ProductFactory, WarehouseFactory
from orders.models import OrderEvent, SalesOrder
from orders.statuses import EventKind, OrderStatus
from orders.tasks import repromise_orders_task
from orders.tests.factories import place
from suppliers import services as purchasing
from suppliers.tests.factories import SupplierFactory, offer, sent_order

pytestmark = pytest.mark.django_db


def _run_outbox(task_name: str) -> None:
    for message in OutboxMessage.objects.filter(task_name=task_name, processed_at__isnull=True).order_by("id"):
        repromise_orders_task(**message.kwargs, _outbox_id=message.pk)


def test_sending_a_purchase_order_renews_the_promise_of_waiting_orders_oldest_first():
    # given two backordered orders for a product nobody stocks, promised by a 10-day lead time
    warehouse = WarehouseFactory()
    product = ProductFactory()
    supplier = SupplierFactory()
    offer(product, supplier, lead_time_days=10)
    first = place((product.sku, 2), email="first@example.com").order
    second = place((product.sku, 1), email="second@example.com").order
    assert first.status == OrderStatus.BACKORDERED
    promise_before = SalesOrder.objects.get(pk=first.pk).promised_date

    # when purchasing sends a PO whose line has a confirmed date
    po = sent_order(supplier, warehouse, (product, 5))
    line = po.lines.get()
    expected = timezone.localdate() + timedelta(days=4)
    purchasing.purchase_order_confirm_dates(purchase_order=po, dates={line.pk: expected})
    _run_outbox("orders.tasks.repromise_orders_task")

    # then both waiting orders carry a promise derived from the PO date, with an event each
    first.refresh_from_db()
    second.refresh_from_db()
    assert promise_before is not None  # from the supplier's 10-day lead time
    assert expected <= first.promised_date < promise_before
    assert second.promised_date is not None and second.promised_date < promise_before
    assert OrderEvent.objects.filter(order=first, kind=EventKind.PROMISE).exists()


def test_repromise_is_idempotent_and_leaves_orders_with_stock_alone():
    # given an order fully in stock
    warehouse = WarehouseFactory()
    product = ProductFactory()
    from inventory.tests.factories import give_stock

    give_stock(product, warehouse, 5)
    order = place((product.sku, 1)).order
    events = OrderEvent.objects.filter(order=order).count()

    # when promises are renewed for its product twice
    first_run = repromise_orders_task(product_ids=[product.pk])
    second_run = repromise_orders_task(product_ids=[product.pk])

    # then nothing changes: it has no backordered line
    assert first_run == 0 and second_run == 0
    assert OrderEvent.objects.filter(order=order).count() == events


def test_incoming_supply_is_promised_to_waiting_orders_in_turn():
    from orders.allocation import add_business_days

    # given two purchase orders of 10 units each, confirmed for day 4 and day 12
    warehouse = WarehouseFactory(handling_days=1)
    product = ProductFactory()
    supplier = SupplierFactory()
    offer(product, supplier, lead_time_days=30)
    today = timezone.localdate()
    early, late = today + timedelta(days=4), today + timedelta(days=12)
    for when in (early, late):
        po = sent_order(supplier, warehouse, (product, 10))
        purchasing.purchase_order_confirm_dates(purchase_order=po, dates={po.lines.get().pk: when})
    _run_outbox("orders.tasks.repromise_orders_task")

    # when four orders of 6 units each wait for the product, oldest first
    orders = [place((product.sku, 6), email=f"queue{n}@example.com").order for n in range(4)]
    _run_outbox("orders.tasks.repromise_orders_task")

    # then the first 10 units go to the first order, the next 10 cover the second and third,
    # and the fourth waits for a new purchase order (the 30-day lead time)
    promised = [SalesOrder.objects.get(pk=order.pk).promised_date for order in orders]
    assert promised == [
        add_business_days(early, 1), add_business_days(late, 1), add_business_days(late, 1),
        add_business_days(today + timedelta(days=30), 1),
    ]

    # and re-promising them all again (a supply change) keeps each order's place in the queue
    from orders import services

    assert services.repromise_orders(product_ids=[product.pk]) == 0
