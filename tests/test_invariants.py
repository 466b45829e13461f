"""The stock invariant checker (orders.checks) catches each kind of damage, and `seed_demo`
builds a consistent, idempotent demo history through the services."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.models import OutboxMessage
from inventory import services
from inventory.models import Product, StockLevel, StockMovement, Warehouse, gtin_check_digit_is_valid
from inventory.selectors import verify_ledger
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services as order_services
from orders.checks import assert_stock_invariants, stock_invariant_violations
from orders.models import Allocation, Channel, Customer, SalesOrder
from orders.statuses import OrderStatus
from orders.tests.factories import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_shop():
    """Two products in two warehouses with orders in several states."""
    shanghai, beijing = WarehouseFactory(code="SH", priority=1), WarehouseFactory(code="BJ", priority=2)
    tea, cup = ProductFactory(sku="TEA"), ProductFactory(sku="CUP")
    for product in (tea, cup):
        give_stock(product, shanghai, 5)
        give_stock(product, beijing, 5)
    shipped = place(("TEA", 3), ("CUP", 1)).order
    order_services.ship_order(order=shipped)
    split = place(("TEA", 4)).order
    cancelled = place(("CUP", 2)).order
    order_services.cancel_order(order=cancelled, reason="test")
    backordered = place(("TEA", 9)).order
    return {"tea": tea, "cup": cup, "shanghai": shanghai, "beijing": beijing, "shipped": shipped,
            "split": split, "backordered": backordered}


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_consistent_shop_has_no_violations(busy_shop):
    assert stock_invariant_violations() == []
    assert_stock_invariants()


def test_on_hand_changed_behind_the_ledgers_back_is_reported(busy_shop):
    raw("UPDATE inventory_stocklevel SET on_hand = on_hand + 1 WHERE product_id = %s", [busy_shop["cup"].pk])
    problems = stock_invariant_violations(ledger_chain=False)
    assert len(problems) == 2
    assert all(problem.startswith("on_hand ≠ Σ movements") for problem in problems)


def test_reserved_without_an_allocation_is_reported(busy_shop):
    raw("UPDATE inventory_stocklevel SET reserved = reserved + 1 WHERE product_id = %s AND warehouse_id = %s",
        [busy_shop["cup"].pk, busy_shop["beijing"].pk])
    (problem,) = stock_invariant_violations()
    assert problem.startswith("reserved ≠ Σ open allocations")
    assert f"product={busy_shop['cup'].pk}" in problem


def test_an_allocation_that_disagrees_with_its_line_is_reported(busy_shop):
    allocation = Allocation.objects.filter(line__order=busy_shop["split"]).first()
    Allocation.objects.filter(pk=allocation.pk).update(quantity=allocation.quantity + 1)
    rules = {problem.split(":")[0] for problem in stock_invariant_violations()}
    assert rules == {"reserved ≠ Σ open allocations", "line allocated/shipped ≠ Σ its allocations"}


def test_a_finished_order_still_holding_stock_is_reported(busy_shop):
    SalesOrder.objects.filter(pk=busy_shop["split"].pk).update(status=OrderStatus.CANCELLED)
    problems = stock_invariant_violations()
    assert problems and all(p.startswith("finished order still reserves stock") for p in problems)
    assert busy_shop["split"].number in problems[0]


def test_shipments_that_no_allocation_accounts_for_are_reported(busy_shop):
    # stock leaves through the ledger service but no order records it
    services.stock_reserve(lines=[services.StockLine(busy_shop["cup"].pk, busy_shop["shanghai"].pk, 1)])
    services.stock_issue_for_shipment(
        lines=[services.StockLine(busy_shop["cup"].pk, busy_shop["shanghai"].pk, 1)], reference="ROGUE"
    )
    (problem,) = stock_invariant_violations()
    assert problem.startswith("shipment movements ≠ Σ allocations shipped")


def test_a_ledger_row_changed_behind_the_apps_back_is_reported(busy_shop):
    movement = StockMovement.objects.order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE inventory_stockmovement DISABLE TRIGGER inventory_stockmovement_no_update_delete")
        cursor.execute("UPDATE inventory_stockmovement SET reference = 'FORGED' WHERE id = %s", [movement.pk])
        cursor.execute("ALTER TABLE inventory_stockmovement ENABLE TRIGGER inventory_stockmovement_no_update_delete")
    problems = stock_invariant_violations()
    assert problems == [f"ledger: stock level {StockLevel.objects.get(product=movement.product, warehouse=movement.warehouse).pk} "
                        f"(product {movement.product_id}, warehouse {movement.warehouse_id}): hash chain broken at "
                        f"movement {movement.pk}"]
    with pytest.raises(AssertionError, match="hash chain broken"):
        assert_stock_invariants()


def test_the_database_itself_refuses_reserved_above_on_hand(busy_shop):
    with pytest.raises(IntegrityError), transaction.atomic():
        raw("UPDATE inventory_stocklevel SET reserved = on_hand + 1 WHERE product_id = %s", [busy_shop["tea"].pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        raw("UPDATE inventory_stocklevel SET on_hand = -1, reserved = 0 WHERE product_id = %s", [busy_shop["tea"].pk])


# --- seed_demo --------------------------------------------------------------------------------
def table_counts() -> dict[str, int]:
    models = [*apps.get_app_config("inventory").get_models(), *apps.get_app_config("orders").get_models(),
              get_user_model()]
    return {model._meta.label: model.objects.count() for model in models}


def test_seed_demo_builds_a_consistent_history_and_is_idempotent(settings):
    # given DEBUG, as `python3 -m scoms run` sets it (without DEBUG seed_demo wants --force)
    settings.DEBUG = True
    # when the demo is seeded twice
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = table_counts()
    call_command("seed_demo", stdout=out)
    # then the second run changed nothing, and the books balance
    assert table_counts() == first
    assert verify_ledger() == []
    assert_stock_invariants()
    assert "demo login" in out.getvalue()

    # channels, with different allocation strategies
    channels = dict(Channel.objects.values_list("code", "allocation_strategy"))
    assert {"web", "store", "phone", "marketplace"} <= set(channels)
    assert len({channels[code] for code in ("web", "store", "phone", "marketplace")}) == 3

    # three warehouses in China with their own priorities and handling days
    warehouses = list(Warehouse.objects.all())
    assert len(warehouses) == 3
    assert all(Decimal("18") < w.latitude < Decimal("54") and Decimal("73") < w.longitude < Decimal("135") for w in warehouses)
    assert len({w.priority for w in warehouses}) == 3
    assert len({w.handling_days for w in warehouses}) > 1

    # ~200 products with valid GTIN-13s, prices, sizes; opening stock through the ledger; low stock
    products = list(Product.objects.all())
    assert len(products) == 200
    assert all(len(p.gtin) == 13 and gtin_check_digit_is_valid(p.gtin) for p in products)
    assert all(isinstance(p.list_price, Decimal) and p.list_price > 0 and p.weight_kg > 0 for p in products)
    assert StockMovement.objects.filter(kind="opening_balance").count() > 300
    assert Product.objects.filter(low_stock_threshold__gt=0).exists()
    from inventory.selectors import low_stock

    assert low_stock().exists()

    # ~50 customers and ~500 orders over the last 90 days, in every status
    assert Customer.objects.count() == 50
    orders = SalesOrder.objects.all()
    assert 480 <= orders.count() <= 500
    assert set(orders.values_list("status", flat=True)) == set(OrderStatus.values)
    oldest = orders.order_by("created_at").first().created_at
    assert timezone.now() - timedelta(days=91) < oldest < timezone.now() - timedelta(days=80)
    assert set(orders.values_list("channel__code", flat=True)) == {"web", "store", "phone", "marketplace"}
    closed = orders.filter(status=OrderStatus.CLOSED).first()
    times = list(closed.events.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times) and times[0] == closed.created_at

    # the history's notifications were not left for the worker to send (later seeders' receipts
    # may rightly leave backorder reallocations pending)
    assert not OutboxMessage.objects.filter(
        processed_at__isnull=True,
        task_name__in=["orders.tasks.order_placed_task", "orders.tasks.order_status_changed_task"],
    ).exists()
