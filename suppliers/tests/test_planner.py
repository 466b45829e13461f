"""The replenishment planner against a real database: grouping, rounding, idempotency, concurrency."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from suppliers import planner
from suppliers.models import PurchaseOrder, PurchaseOrderLine, ReorderPolicy
from suppliers.statuses import PolicyMethod, PurchaseOrderSource, PurchaseOrderStatus
from suppliers.tests.factories import ReorderPolicyFactory, SupplierFactory, offer, sent_order


@pytest.fixture
def setting_up(db):
    """Two warehouses, two suppliers, four products below their minimum."""
    main, second = WarehouseFactory(code="MAIN"), WarehouseFactory(code="EAST")
    alpha, beta = SupplierFactory(code="alpha"), SupplierFactory(code="beta")
    products = [ProductFactory(sku=f"P-{n}") for n in range(4)]
    offer(products[0], alpha, preferred=True)
    offer(products[1], alpha, preferred=True)
    offer(products[2], beta, preferred=True)
    offer(products[3], beta, preferred=True)
    for product in products:
        ReorderPolicyFactory(product=product, warehouse=main, min_quantity=10, max_quantity=40)
    ReorderPolicyFactory(product=products[0], warehouse=second, min_quantity=5, max_quantity=20)
    return {"main": main, "second": second, "alpha": alpha, "beta": beta, "products": products}


def test_planner_groups_lines_into_one_draft_per_supplier_and_warehouse(setting_up):
    result = planner.run_replenishment()

    assert (result.created_pos, result.created_lines) == (3, 5)
    orders = {
        (po.supplier.code, po.warehouse.code): sorted(po.lines.values_list("product__sku", "quantity"))
        for po in PurchaseOrder.objects.select_related("supplier", "warehouse")
    }
    assert orders == {
        ("alpha", "MAIN"): [("P-0", 40), ("P-1", 40)],
        ("beta", "MAIN"): [("P-2", 40), ("P-3", 40)],
        ("alpha", "EAST"): [("P-0", 20)],
    }
    assert set(PurchaseOrder.objects.values_list("status", "source")) == {
        (PurchaseOrderStatus.DRAFT, PurchaseOrderSource.PLANNER)
    }
    assert PurchaseOrder.objects.get(supplier__code="alpha", warehouse__code="MAIN").total == Decimal("800.00")


def test_second_run_creates_no_lines(setting_up):
    first = planner.run_replenishment()
    second = planner.run_replenishment()

    assert first.created_lines == 5
    assert (second.created_pos, second.created_lines, second.updated_lines) == (0, 0, 0)
    assert PurchaseOrderLine.objects.count() == 5


def test_planner_counts_stock_reservations_and_open_purchase_orders(setting_up):
    products, main = setting_up["products"], setting_up["main"]
    give_stock(products[0], main, 11)  # above the minimum of 10: nothing needed
    give_stock(products[1], main, 4)  # 4 on hand: order up to 40 -> 36
    sent_order(setting_up["beta"], main, (products[2], 30))  # 30 on order: position 30 > 10

    planner.run_replenishment()

    planned = dict(
        PurchaseOrderLine.objects.filter(suggestion=True, warehouse=main).values_list("product__sku", "quantity")
    )
    assert planned == {"P-1": 36, "P-3": 40}


def test_quantity_is_rounded_to_moq_and_pack_size(db):
    warehouse, supplier = WarehouseFactory(), SupplierFactory()
    product = ProductFactory()
    offer(product, supplier, minimum_order_quantity=25, pack_size=12)
    ReorderPolicyFactory(product=product, warehouse=warehouse, min_quantity=5, max_quantity=20)

    planner.run_replenishment()

    assert PurchaseOrderLine.objects.get().quantity == 36  # need 20 -> MOQ 25 -> 3 packs of 12


def test_price_break_picks_the_supplier_and_prices_the_line(db):
    warehouse = WarehouseFactory()
    product = ProductFactory()
    plain, discount = SupplierFactory(code="plain"), SupplierFactory(code="discount")
    offer(product, plain, cost="2.00")
    offer(product, discount, cost="2.50", breaks=[(100, "1.80")])
    ReorderPolicyFactory(product=product, warehouse=warehouse, min_quantity=0, max_quantity=100)

    planner.run_replenishment()

    line = PurchaseOrderLine.objects.select_related("purchase_order__supplier").get()
    assert line.purchase_order.supplier.code == "discount"
    assert (line.quantity, line.unit_cost) == (100, Decimal("1.8000"))


def _ship(product, warehouse, quantity):
    from inventory import services as stock
    from inventory.services import StockLine

    give_stock(product, warehouse, quantity)
    stock.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, quantity)])
    stock.stock_issue_for_shipment(lines=[StockLine(product.pk, warehouse.pk, quantity)], reference="history")


def test_reorder_point_policy_stores_its_levels_and_orders_up_to_them(db):
    from suppliers import forecasting, planning

    warehouse, supplier = WarehouseFactory(), SupplierFactory(default_lead_time_days=9)
    product = ProductFactory()
    offer(product, supplier)
    policy = ReorderPolicyFactory(product=product, warehouse=warehouse, method=PolicyMethod.REORDER_POINT,
                                  min_quantity=0, max_quantity=30, review_period_days=7)
    _ship(product, warehouse, 90)
    stats = forecasting.daily_demand_stats(product_warehouse_pairs=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    expected = planning.policy_levels(
        method=PolicyMethod.REORDER_POINT, min_quantity=0, max_quantity=30, service_level=Decimal("0.95"),
        review_period_days=7, mean_daily=stats.mean, sigma_daily=stats.sigma, lead_time_days=9,
    )

    result = planner.run_replenishment()

    policy.refresh_from_db()
    assert (policy.reorder_level, policy.safety_stock) == (expected.reorder_level, expected.safety_stock)
    assert policy.lead_time_used == Decimal("9.00")
    assert result.created_lines == 1
    assert PurchaseOrderLine.objects.get().quantity == expected.order_up_to  # nothing on hand


def test_draft_suggestion_is_topped_up_not_duplicated(setting_up):
    planner.run_replenishment()
    policy = ReorderPolicy.objects.get(product__sku="P-2", warehouse__code="MAIN")
    policy.min_quantity, policy.max_quantity = 50, 60  # 40 on order is now short by 20
    policy.save()

    result = planner.run_replenishment()

    assert (result.created_lines, result.updated_lines) == (0, 1)
    assert PurchaseOrderLine.objects.get(product__sku="P-2", warehouse__code="MAIN").quantity == 60


def test_approving_a_suggestion_keeps_it_on_order_for_the_next_run(setting_up):
    from suppliers import services

    planner.run_replenishment()
    draft = PurchaseOrder.objects.get(supplier__code="alpha", warehouse__code="MAIN")
    services.purchase_order_send(purchase_order=draft)

    assert planner.run_replenishment().created_lines == 0
    assert not PurchaseOrderLine.objects.filter(purchase_order=draft, suggestion=True).exists()


def test_auto_approve_sends_small_drafts(setting_up, settings):
    settings.REPLENISHMENT_AUTO_APPROVE_BELOW = Decimal("500")

    result = planner.run_replenishment()

    statuses = dict(PurchaseOrder.objects.values_list("warehouse__code", "status"))
    assert result.auto_approved == 1
    assert statuses["EAST"] == PurchaseOrderStatus.SENT  # 20 x 10.00 = 200 < 500
    assert statuses["MAIN"] == PurchaseOrderStatus.DRAFT  # 800 each


def test_product_without_supplier_is_reported_not_ordered(db):
    ReorderPolicyFactory()

    result = planner.run_replenishment()

    assert (result.created_lines, result.without_supplier) == (0, 1)


def test_planner_query_count_does_not_grow_with_policies(db):
    from django.test.utils import CaptureQueriesContext

    supplier = SupplierFactory()

    def policies(prefix, count):
        warehouse = WarehouseFactory(code=prefix)
        created = []
        for n in range(count):
            product = ProductFactory(sku=f"{prefix}-{n}")
            offer(product, supplier, breaks=[(50, "9.00")])
            created.append(ReorderPolicyFactory(
                product=product, warehouse=warehouse, min_quantity=5, max_quantity=20,
                method=PolicyMethod.REORDER_POINT if n % 2 else PolicyMethod.MIN_MAX,
            ).pk)
        return created

    few, many = policies("FEW", 4), policies("MANY", 40)
    with CaptureQueriesContext(connection) as small:
        assert planner.run_replenishment(policy_ids=few).created_lines == 4
    with CaptureQueriesContext(connection) as large:
        assert planner.run_replenishment(policy_ids=many).created_lines == 40

    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 30


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_create_one_set_of_lines():
    warehouse, supplier = WarehouseFactory(), SupplierFactory()
    for n in range(20):
        product = ProductFactory(sku=f"C-{n}")
        offer(product, supplier)
        ReorderPolicyFactory(product=product, warehouse=warehouse, min_quantity=5, max_quantity=20)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(planner.run_replenishment())
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(r.created_lines for r in results) == [0, 20]
    assert PurchaseOrder.objects.count() == 1
    assert PurchaseOrderLine.objects.count() == 20


def test_measured_lead_time_replaces_the_stated_one_after_five_receipts(db, settings):
    from datetime import timedelta

    from django.utils import timezone

    from suppliers import services

    warehouse, supplier = WarehouseFactory(), SupplierFactory(default_lead_time_days=10)
    product = ProductFactory()
    offer(product, supplier)
    policy = ReorderPolicyFactory(product=product, warehouse=warehouse, method=PolicyMethod.REORDER_POINT,
                                  min_quantity=0, max_quantity=0)
    now = timezone.now()
    for days in (4, 4, 6, 6, 5):  # actual lead times: mean 5, sample sigma 1
        po = sent_order(supplier, warehouse, (product, 1))
        PurchaseOrder.objects.filter(pk=po.pk).update(sent_at=now - timedelta(days=days + 1))
        services.purchase_order_receive(
            purchase_order=po, lines=[services.ReceiptLineInput(line_id=po.lines.get().pk, quantity=1)],
            received_at=now - timedelta(days=1),
        )

    planner.run_replenishment()

    policy.refresh_from_db()
    assert policy.lead_time_used == Decimal("5.00")


def test_stated_lead_time_is_used_below_five_receipts(db):
    warehouse, supplier = WarehouseFactory(), SupplierFactory(default_lead_time_days=10)
    product = ProductFactory()
    offer(product, supplier)
    policy = ReorderPolicyFactory(product=product, warehouse=warehouse, method=PolicyMethod.REORDER_POINT,
                                  min_quantity=0, max_quantity=0)
    from suppliers import services

    for _ in range(4):
        po = sent_order(supplier, warehouse, (product, 1))
        services.purchase_order_receive(
            purchase_order=po, lines=[services.ReceiptLineInput(line_id=po.lines.get().pk, quantity=1)]
        )

    planner.run_replenishment()

    policy.refresh_from_db()
    assert policy.lead_time_used == Decimal("10.00")


@pytest.mark.parametrize(
    ("usd_rate", "chosen"),
    [
        ("7.20", "local"),  # 10 USD = 72.00 CNY > 50 CNY
        ("4.00", "overseas"),  # 10 USD = 40.00 CNY < 50 CNY
        (None, "local"),  # no rate: the USD offer cannot be compared, the known cost wins
    ],
)
def test_offers_in_other_currencies_are_compared_in_the_base_currency(db, usd_rate, chosen):
    from datetime import date

    from core.models import ExchangeRate

    warehouse = WarehouseFactory()
    product = ProductFactory()
    local = SupplierFactory(code="local", currency="CNY")
    overseas = SupplierFactory(code="overseas", currency="USD")
    offer(product, local, cost="50.00")
    offer(product, overseas, cost="10.00", currency="USD")
    if usd_rate is not None:
        ExchangeRate.objects.create(currency="USD", rate=Decimal("1.00"), valid_from=date(2000, 1, 1))  # superseded
        ExchangeRate.objects.create(currency="USD", rate=Decimal(usd_rate), valid_from=date(2026, 1, 1))
        ExchangeRate.objects.create(currency="USD", rate=Decimal("0.01"), valid_from=date(2999, 1, 1))  # not yet
    ReorderPolicyFactory(product=product, warehouse=warehouse, min_quantity=0, max_quantity=1)

    planner.run_replenishment()

    line = PurchaseOrderLine.objects.select_related("purchase_order__supplier").get()
    assert line.purchase_order.supplier.code == chosen
