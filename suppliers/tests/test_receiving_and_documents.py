"""Receipts refill backorders oldest first, set-based whatever their size; the purchase-order PDF renders."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import OutboxMessage
from inventory.models import StockLevel, StockMovement
from inventory.selectors import verify_ledger
from inventory.tests.factories import ProductFactory, WarehouseFactory
from orders.models import OrderLine
from orders.tasks import reallocate_backorders_task
from orders.tests.factories import place
from suppliers import services
from suppliers.documents import render_purchase_order_pdf
from suppliers.statuses import PurchaseOrderStatus
from suppliers.tests.factories import SupplierFactory, offer, sent_order

pytestmark = pytest.mark.django_db


def test_receiving_reallocates_backorders_oldest_first():
    warehouse, supplier = WarehouseFactory(code="BO"), SupplierFactory()
    product = ProductFactory(sku="BACK-1")
    offer(product, supplier)
    older = place(("BACK-1", 3), external_ref="older").order
    newer = place(("BACK-1", 3), external_ref="newer").order
    assert OrderLine.objects.get(order=older).quantity_backordered == 3
    po = sent_order(supplier, warehouse, (product, 4))

    services.purchase_order_receive(
        purchase_order=po, lines=[services.ReceiptLineInput(line_id=po.lines.get().pk, quantity=4)]
    )
    reallocate_backorders_task(product_ids=[product.pk])

    assert OrderLine.objects.get(order=older).quantity_backordered == 0
    assert OrderLine.objects.get(order=newer).quantity_backordered == 2
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    assert (level.on_hand, level.reserved) == (4, 4)


def test_receipt_enqueues_the_backorder_reallocation_after_commit():
    from core.models import OutboxMessage

    warehouse, supplier = WarehouseFactory(), SupplierFactory()
    product = ProductFactory()
    offer(product, supplier)
    po = sent_order(supplier, warehouse, (product, 4))

    services.purchase_order_receive(
        purchase_order=po, lines=[services.ReceiptLineInput(line_id=po.lines.get().pk, quantity=4)]
    )

    message = OutboxMessage.objects.get(task_name="orders.tasks.reallocate_backorders_task")
    assert message.kwargs == {"product_ids": [product.pk]}


def _received_in_full(po):
    return [services.ReceiptLineInput(line_id=line.pk, quantity=line.quantity) for line in po.lines.all()]


def test_receiving_twenty_lines_takes_as_many_queries_as_receiving_one(django_assert_num_queries):
    # given a one-line and a twenty-line purchase order, both sent
    warehouse, supplier = WarehouseFactory(), SupplierFactory()
    products = [ProductFactory() for _ in range(21)]
    for product in products:
        offer(product, supplier)
    one = sent_order(supplier, warehouse, (products[0], 3))
    twenty = sent_order(supplier, warehouse, *[(product, 3) for product in products[1:]])
    one_lines, twenty_lines = _received_in_full(one), _received_in_full(twenty)
    with CaptureQueriesContext(connection) as single:
        services.purchase_order_receive(purchase_order=one, lines=one_lines)
    # when the twenty lines are received, then it takes the same number of queries
    with django_assert_num_queries(len(single.captured_queries)):
        services.purchase_order_receive(purchase_order=twenty, lines=twenty_lines)
    twenty.refresh_from_db()
    assert twenty.status == PurchaseOrderStatus.RECEIVED
    assert sorted(twenty.lines.values_list("quantity_received", flat=True)) == [3] * 20


def test_a_receipt_of_many_lines_posts_a_ledger_row_per_line_and_one_reallocation():
    # given a sent order of three products, each with a waiting backorder
    warehouse, supplier = WarehouseFactory(), SupplierFactory()
    products = [ProductFactory(sku=f"MANY-{index}") for index in range(3)]
    for product in products:
        offer(product, supplier)
        place((product.sku, 2), external_ref=f"waiting-{product.sku}")
    po = sent_order(supplier, warehouse, *[(product, 5) for product in reversed(products)])
    OutboxMessage.objects.filter(task_name="orders.tasks.reallocate_backorders_task").delete()
    # when two lines are received in full and one in part
    lines = {line.product_id: line for line in po.lines.all()}
    receipt = services.purchase_order_receive(purchase_order=po, lines=[
        services.ReceiptLineInput(line_id=lines[products[0].pk].pk, quantity=5),
        services.ReceiptLineInput(line_id=lines[products[2].pk].pk, quantity=1),
        services.ReceiptLineInput(line_id=lines[products[1].pk].pk, quantity=5),
    ])
    # then each line has its own ledger row, receipt line and received total; the ledger is intact
    movements = StockMovement.objects.filter(reference=f"{po.number}/{receipt.number}")
    assert sorted(movements.values_list("product_id", "quantity", "kind")) == [
        (products[0].pk, 5, "receipt"), (products[1].pk, 5, "receipt"), (products[2].pk, 1, "receipt"),
    ]
    assert sorted(receipt.lines.values_list("line__product_id", "quantity")) == [
        (products[0].pk, 5), (products[1].pk, 5), (products[2].pk, 1),
    ]
    assert {line.product_id: line.quantity_received for line in po.lines.all()} == {
        products[0].pk: 5, products[1].pk: 5, products[2].pk: 1,
    }
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert verify_ledger() == []
    # and the waiting orders are offered all three products by one message after commit
    (message,) = OutboxMessage.objects.filter(task_name="orders.tasks.reallocate_backorders_task")
    assert message.kwargs == {"product_ids": sorted(product.pk for product in products)}
    reallocate_backorders_task(**message.kwargs)
    assert sorted(OrderLine.objects.values_list("product_id", "quantity_backordered")) == [
        (products[0].pk, 0), (products[1].pk, 0), (products[2].pk, 1),
    ]


def test_purchase_order_pdf_renders_with_number_lines_and_totals():
    from pypdf import PdfReader

    warehouse, supplier = WarehouseFactory(), SupplierFactory(name="Acme Components")
    product = ProductFactory(sku="PDF-SKU-1")
    offer(product, supplier, cost="12.50")
    po = sent_order(supplier, warehouse, (product, 8))

    pdf = render_purchase_order_pdf(po)

    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert po.number in text
    assert "PDF-SKU-1" in text
    assert "Acme Components" in text
    assert "100.00" in text  # 8 x 12.50


def test_planner_counts_backordered_customer_demand():
    from suppliers import planner
    from suppliers.models import PurchaseOrderLine
    from suppliers.tests.factories import ReorderPolicyFactory

    warehouse, supplier = WarehouseFactory(code="OD"), SupplierFactory()
    product = ProductFactory(sku="OPEN-DEMAND")
    offer(product, supplier)
    ReorderPolicyFactory(product=product, warehouse=warehouse, min_quantity=5, max_quantity=20)
    place(("OPEN-DEMAND", 7), external_ref="waiting")  # nothing in stock: 7 backordered

    planner.run_replenishment()

    # position = 0 on hand + 0 on order - 7 backordered = -7 -> order up to 20 -> 27
    assert PurchaseOrderLine.objects.get(product=product).quantity == 27


def test_supply_date_skips_po_quantity_already_owed_to_backorders():
    from datetime import timedelta

    from django.utils import timezone

    from suppliers.selectors import expected_supply_dates

    today = timezone.localdate()
    warehouse, supplier = WarehouseFactory(code="ATP"), SupplierFactory()
    product = ProductFactory(sku="ATP-1")
    offer(product, supplier)
    first = sent_order(supplier, warehouse, (product, 5))
    second = sent_order(supplier, warehouse, (product, 5))
    services.purchase_order_confirm_dates(purchase_order=first, dates={first.lines.get().pk: today + timedelta(days=3)})
    services.purchase_order_confirm_dates(purchase_order=second, dates={second.lines.get().pk: today + timedelta(days=8)})

    assert expected_supply_dates({product.pk}, today)[product.pk] == today + timedelta(days=3)
    place(("ATP-1", 5), external_ref="owed")  # takes the whole first delivery

    assert expected_supply_dates({product.pk}, today)[product.pk] == today + timedelta(days=8)
