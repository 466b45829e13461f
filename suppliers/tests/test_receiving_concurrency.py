"""Receipts at the same moment on real connections: never past the tolerance, never a deadlock.

Each receipt runs in its own thread and PostgreSQL connection, released together by a barrier
(orders' `run_together`). Nothing is mocked.
"""

from __future__ import annotations

import pytest

from core.exceptions import ValidationFailed
from inventory.models import StockLevel
from inventory.selectors import verify_ledger
from inventory.tests.factories import ProductFactory, WarehouseFactory
from orders.checks import assert_stock_invariants
from orders.tests.test_concurrency import run_together
from suppliers import services
from suppliers.models import GoodsReceipt, PurchaseOrderLine
from suppliers.tests.factories import SupplierFactory, offer, sent_order

pytestmark = pytest.mark.django_db(transaction=True)


def receive_job(po, quantities: list[tuple[int, int]]):
    """A receipt of (line id, quantity) pairs, in the order given."""

    def job():
        return services.purchase_order_receive(
            purchase_order=po.pk,
            lines=[services.ReceiptLineInput(line_id=line_id, quantity=quantity) for line_id, quantity in quantities],
        )

    return job


def test_two_receipts_at_once_cannot_together_pass_the_over_receipt_tolerance(settings):
    # given a sent order of 10 units and no tolerance
    settings.PURCHASING_OVER_RECEIPT_TOLERANCE_PERCENT = 0
    warehouse, supplier, product = WarehouseFactory(), SupplierFactory(), ProductFactory()
    offer(product, supplier)
    po = sent_order(supplier, warehouse, (product, 10))
    line = po.lines.get()
    # when two clerks book 6 units each at the same moment
    outcome = run_together([receive_job(po, [(line.pk, 6)]) for _ in range(2)])
    # then one receipt is booked and the other is refused with the tolerance, nothing half-written
    assert outcome.unexpected(ValidationFailed) == []
    assert sum(error is not None for error in outcome.errors) == 1
    assert GoodsReceipt.objects.count() == 1
    assert PurchaseOrderLine.objects.get(pk=line.pk).quantity_received == 6
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 6
    assert verify_ledger() == []
    assert_stock_invariants()


def test_receipts_of_the_same_products_in_opposite_line_order_all_succeed():
    # given eight sent orders of the same three products, half of them listing the products backwards
    warehouse, supplier = WarehouseFactory(), SupplierFactory()
    products = [ProductFactory() for _ in range(3)]
    for product in products:
        offer(product, supplier)
    orders = [
        sent_order(supplier, warehouse, *[(product, 4) for product in (products if index % 2 else products[::-1])])
        for index in range(8)
    ]
    jobs = []
    for index, po in enumerate(orders):
        lines = [(line.pk, 4) for line in po.lines.order_by("line_no")]
        jobs.append(receive_job(po, lines if index % 2 else lines[::-1]))
    # when all eight deliveries are booked at the same moment
    outcome = run_together(jobs)
    # then every receipt went through (stock rows are locked in one order) and the ledger adds up
    assert outcome.errors == [None] * 8
    assert sorted(StockLevel.objects.filter(warehouse=warehouse).values_list("on_hand", flat=True)) == [32] * 3
    assert verify_ledger() == []
    assert_stock_invariants()
