"""inventory.services: every stock change is a ledger row, guarded by locks and constraints."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.exceptions import Conflict, InsufficientStock, ValidationFailed
from core.models import OutboxMessage
from inventory import hooks, selectors, services
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.services import StockLine, movement_hash
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders.checks import assert_stock_invariants

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return ProductFactory(sku="INV-1")


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="SH1", priority=1)


@pytest.fixture
def other_warehouse():
    return WarehouseFactory(code="BJ1", priority=2)


def level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def test_receive_creates_the_stock_row_and_one_ledger_movement(product, warehouse):
    # when
    movement = services.stock_receive(product=product, warehouse=warehouse, quantity=12, reference="PO-1")
    # then
    row = level(product, warehouse)
    assert (row.on_hand, row.reserved) == (12, 0)
    assert movement.kind == MovementKind.RECEIPT
    assert (movement.quantity, movement.balance_after, movement.reference) == (12, 12, "PO-1")
    assert row.ledger_hash == movement.hash
    assert_stock_invariants()


def test_opening_balance_is_recorded_as_its_own_kind(product, warehouse):
    movement = services.stock_receive(
        product=product, warehouse=warehouse, quantity=5, kind=MovementKind.OPENING_BALANCE
    )
    assert movement.kind == MovementKind.OPENING_BALANCE
    assert level(product, warehouse).on_hand == 5


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001, 1.5, "3", True, None])
def test_receive_refuses_quantities_that_are_not_positive_whole_numbers(product, warehouse, quantity):
    with pytest.raises(ValidationFailed) as caught:
        services.stock_receive(product=product, warehouse=warehouse, quantity=quantity)
    assert caught.value.field == "quantity"
    assert not StockMovement.objects.exists()


def test_ledger_rows_form_a_hash_chain_with_running_balances(product, warehouse):
    # given
    services.stock_receive(product=product, warehouse=warehouse, quantity=10)
    services.stock_adjust(product=product, warehouse=warehouse, quantity=-3, reason="damaged")
    services.stock_receive(product=product, warehouse=warehouse, quantity=4)
    # then
    previous, balance = "", 0
    for movement in StockMovement.objects.filter(product=product, warehouse=warehouse).order_by("id"):
        balance += movement.quantity
        assert movement.balance_after == balance
        assert movement.hash == movement_hash(
            previous, product_id=product.pk, warehouse_id=warehouse.pk, kind=movement.kind,
            quantity=movement.quantity, balance_after=movement.balance_after, reference=movement.reference,
            created_at=movement.created_at,
        )
        previous = movement.hash
    assert level(product, warehouse).ledger_hash == previous
    assert balance == 11


def test_adjust_requires_a_reason(product, warehouse):
    give_stock(product, warehouse, 5)
    with pytest.raises(ValidationFailed) as caught:
        services.stock_adjust(product=product, warehouse=warehouse, quantity=-1, reason="  ")
    assert caught.value.field == "reason"
    assert level(product, warehouse).on_hand == 5


def test_adjust_down_to_zero_is_allowed_but_not_below(product, warehouse):
    give_stock(product, warehouse, 5)
    with pytest.raises(InsufficientStock):
        services.stock_adjust(product=product, warehouse=warehouse, quantity=-6, reason="lost")
    services.stock_adjust(product=product, warehouse=warehouse, quantity=-5, reason="lost")
    assert level(product, warehouse).on_hand == 0
    assert_stock_invariants()


def test_adjust_that_would_leave_less_than_reserved_is_refused_and_writes_nothing(product, warehouse):
    # given 5 on hand, 4 reserved
    give_stock(product, warehouse, 5)
    services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 4)])
    movements_before = StockMovement.objects.count()
    # when
    with pytest.raises(InsufficientStock) as caught:
        services.stock_adjust(product=product, warehouse=warehouse, quantity=-2, reason="broken")
    # then
    assert caught.value.status == 409
    row = level(product, warehouse)
    assert (row.on_hand, row.reserved) == (5, 4)
    assert StockMovement.objects.count() == movements_before


def test_transfer_moves_available_units_with_an_out_and_an_in_movement(product, warehouse, other_warehouse):
    give_stock(product, warehouse, 8)
    out_movement, in_movement = services.stock_transfer(
        product=product, from_warehouse=warehouse, to_warehouse=other_warehouse, quantity=3, reason="rebalance"
    )
    assert (out_movement.kind, out_movement.quantity) == (MovementKind.TRANSFER_OUT, -3)
    assert (in_movement.kind, in_movement.quantity) == (MovementKind.TRANSFER_IN, 3)
    assert level(product, warehouse).on_hand == 5
    assert level(product, other_warehouse).on_hand == 3


def test_transfer_of_reserved_units_is_refused(product, warehouse, other_warehouse):
    give_stock(product, warehouse, 4)
    services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 3)])
    with pytest.raises(InsufficientStock):
        services.stock_transfer(product=product, from_warehouse=warehouse, to_warehouse=other_warehouse, quantity=2)
    assert level(product, warehouse).on_hand == 4
    assert not StockLevel.objects.filter(warehouse=other_warehouse, on_hand__gt=0).exists()


def test_transfer_needs_two_different_warehouses(product, warehouse):
    give_stock(product, warehouse, 4)
    with pytest.raises(ValidationFailed) as caught:
        services.stock_transfer(product=product, from_warehouse=warehouse, to_warehouse=warehouse, quantity=1)
    assert caught.value.field == "to_warehouse"


def test_count_posts_the_difference_as_a_correction(product, warehouse):
    give_stock(product, warehouse, 10)
    movement = services.stock_count(product=product, warehouse=warehouse, counted=7)
    assert (movement.kind, movement.quantity, movement.balance_after) == (MovementKind.COUNT_CORRECTION, -3, 7)
    assert services.stock_count(product=product, warehouse=warehouse, counted=7) is None
    assert level(product, warehouse).on_hand == 7


def test_count_of_a_never_stocked_product_creates_the_row(product, warehouse):
    movement = services.stock_count(product=product, warehouse=warehouse, counted=2)
    assert movement.quantity == 2
    assert level(product, warehouse).on_hand == 2


def test_count_below_reserved_is_a_conflict(product, warehouse):
    give_stock(product, warehouse, 10)
    services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 6)])
    with pytest.raises(Conflict) as caught:
        services.stock_count(product=product, warehouse=warehouse, counted=5)
    assert caught.value.field == "counted"
    assert level(product, warehouse).on_hand == 10


@pytest.mark.parametrize("counted", [-1, 2.0, "3"])
def test_count_refuses_bad_counts(product, warehouse, counted):
    with pytest.raises(ValidationFailed):
        services.stock_count(product=product, warehouse=warehouse, counted=counted)


def test_reserve_is_all_or_nothing(product, warehouse):
    # given one product with 5 available and another with 1
    scarce = ProductFactory(sku="INV-2")
    give_stock(product, warehouse, 5)
    give_stock(scarce, warehouse, 1)
    # when both are reserved at once and one is short
    with pytest.raises(InsufficientStock) as caught, transaction.atomic():
        services.stock_reserve(
            lines=[StockLine(product.pk, warehouse.pk, 3), StockLine(scarce.pk, warehouse.pk, 2)]
        )
    # then the caller's transaction rolled back the part that succeeded and the short row is named
    assert caught.value.details == [{"product_id": scarce.pk, "warehouse_id": warehouse.pk, "requested": 2}]
    assert level(product, warehouse).reserved == 0
    assert level(scarce, warehouse).reserved == 0


def test_a_short_reservation_writes_nothing_even_if_the_caller_goes_on(product, warehouse):
    # given one product with 5 available and another with 1
    scarce = ProductFactory(sku="INV-3")
    give_stock(product, warehouse, 5)
    give_stock(scarce, warehouse, 1)
    # when both are reserved and one is short, and the caller catches the error and carries on
    with transaction.atomic():
        with pytest.raises(InsufficientStock):
            services.stock_reserve(
                lines=[StockLine(product.pk, warehouse.pk, 3), StockLine(scarce.pk, warehouse.pk, 2)]
            )
        # then not even the row that had enough was reserved: one all-or-none statement
        assert level(product, warehouse).reserved == 0
        assert level(scarce, warehouse).reserved == 0


def test_reserve_merges_lines_of_the_same_stock_row(product, warehouse):
    give_stock(product, warehouse, 5)
    services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 2), StockLine(product.pk, warehouse.pk, 3)])
    assert level(product, warehouse).reserved == 5


def test_reserve_without_a_stock_row_is_insufficient(product, warehouse):
    with pytest.raises(InsufficientStock), transaction.atomic():
        services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 1)])


def test_release_gives_units_back_and_refuses_more_than_reserved(product, warehouse):
    give_stock(product, warehouse, 5)
    services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 3)])
    services.stock_release(lines=[StockLine(product.pk, warehouse.pk, 2)])
    assert level(product, warehouse).reserved == 1
    with pytest.raises(Conflict):
        services.stock_release(lines=[StockLine(product.pk, warehouse.pk, 2)])
    assert level(product, warehouse).reserved == 1


def test_issue_for_shipment_lowers_on_hand_and_reserved_together(product, warehouse):
    give_stock(product, warehouse, 5)
    services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 3)])
    (movement,) = services.stock_issue_for_shipment(lines=[StockLine(product.pk, warehouse.pk, 2)], reference="SO-1")
    assert (movement.kind, movement.quantity, movement.reference) == (MovementKind.SHIPMENT, -2, "SO-1")
    row = level(product, warehouse)
    assert (row.on_hand, row.reserved) == (3, 1)


def test_issue_of_unreserved_units_is_refused(product, warehouse):
    give_stock(product, warehouse, 5)
    with pytest.raises(InsufficientStock):
        services.stock_issue_for_shipment(lines=[StockLine(product.pk, warehouse.pk, 1)], reference="SO-1")
    assert level(product, warehouse).on_hand == 5


def test_stock_rows_are_locked_in_product_then_warehouse_order_before_they_are_written(warehouse, other_warehouse):
    # given two products stocked in two warehouses, posted in reverse order
    first, second = ProductFactory(sku="INV-A"), ProductFactory(sku="INV-B")
    for product in (second, first):
        for place in (other_warehouse, warehouse):
            give_stock(product, place, 3)
    # when a reservation names them in reverse order
    with CaptureQueriesContext(connection) as queries:
        services.stock_reserve(
            lines=[StockLine(p.pk, w.pk, 1) for p in (second, first) for w in (other_warehouse, warehouse)]
        )
    # then one guarded UPDATE whose sub-select locks in (product, warehouse) order
    (statement,) = [q["sql"] for q in queries.captured_queries if "inventory_stocklevel" in q["sql"]]
    assert "ORDER BY sl.product_id, sl.warehouse_id" in statement
    assert "FOR UPDATE" in statement
    assert "s.available >= l.quantity" in statement
    locked = services.lock_stock_levels(product_ids=[second.pk, first.pk])
    assert [(row.product_id, row.warehouse_id) for row in locked] == sorted(
        (row.product_id, row.warehouse_id) for row in locked
    )


def test_receipts_and_releases_offer_units_to_waiting_orders_through_the_hook(product, warehouse, only_fillers):
    # given a hook listener standing in for a higher app
    seen: list[set[int]] = []
    only_fillers(hooks.STOCK_ARRIVED, seen.append)
    # when units arrive, are reserved, released and shipped
    give_stock(product, warehouse, 5)
    services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 2)])
    services.stock_release(lines=[StockLine(product.pk, warehouse.pk, 1)])
    services.stock_release(lines=[StockLine(product.pk, warehouse.pk, 1)], notify=False)
    services.stock_adjust(product=product, warehouse=warehouse, quantity=-1, reason="broken")
    # then receipts and notified releases told the listener; decreases did not
    assert seen == [{product.pk}, {product.pk}]


def test_receive_many_posts_one_chained_ledger_row_per_stock_row_and_calls_the_hook_once(
    warehouse, other_warehouse, only_fillers
):
    # given two products in two warehouses, three of the four rows with history already
    seen: list[set[int]] = []
    only_fillers(hooks.STOCK_ARRIVED, seen.append)
    first, second = ProductFactory(sku="MANY-A"), ProductFactory(sku="MANY-B")
    give_stock(first, warehouse, 2)
    give_stock(first, other_warehouse, 3)
    give_stock(second, warehouse, 4)
    heads = {(row.product_id, row.warehouse_id): row.ledger_hash for row in StockLevel.objects.all()}
    seen.clear()
    # when one call receives them in reverse order, one row named twice
    movements = services.stock_receive_many(
        lines=[StockLine(second.pk, other_warehouse.pk, 5), StockLine(second.pk, warehouse.pk, 1),
               StockLine(first.pk, other_warehouse.pk, 1), StockLine(first.pk, warehouse.pk, 7),
               StockLine(second.pk, warehouse.pk, 2)],
        reference="BULK-1",
    )
    # then one ledger row per stock row, in lock order, each chained to that row's previous head
    assert [(m.product_id, m.warehouse_id, m.quantity, m.balance_after) for m in movements] == sorted([
        (first.pk, warehouse.pk, 7, 9), (first.pk, other_warehouse.pk, 1, 4),
        (second.pk, warehouse.pk, 3, 7), (second.pk, other_warehouse.pk, 5, 5),
    ])
    for movement in StockMovement.objects.filter(reference="BULK-1"):
        assert movement.hash == movement_hash(
            heads.get((movement.product_id, movement.warehouse_id), ""), product_id=movement.product_id,
            warehouse_id=movement.warehouse_id, kind=movement.kind, quantity=movement.quantity,
            balance_after=movement.balance_after, reference="BULK-1", created_at=movement.created_at,
        )
        assert level(movement.product, movement.warehouse).ledger_hash == movement.hash
    assert selectors.verify_ledger() == []
    # and higher apps hear of both products once
    assert seen == [{first.pk, second.pk}]
    assert_stock_invariants()


def test_orders_app_turns_arrivals_into_an_outbox_message(product, warehouse):
    give_stock(product, warehouse, 5)
    message = OutboxMessage.objects.get(task_name="orders.tasks.reallocate_backorders_task")
    assert message.kwargs == {"product_ids": [product.pk]}


def test_low_stock_uses_the_product_threshold(warehouse):
    low, fine, untracked = ProductFactory(sku="LOW"), ProductFactory(sku="FINE"), ProductFactory(sku="UNTRACKED")
    low.low_stock_threshold = fine.low_stock_threshold = 5
    low.save()
    fine.save()
    give_stock(low, warehouse, 5)
    give_stock(fine, warehouse, 6)
    give_stock(untracked, warehouse, 1)
    assert [row.product.sku for row in selectors.low_stock()] == ["LOW"]


def test_availability_is_on_hand_minus_reserved_per_warehouse(product, warehouse, other_warehouse):
    give_stock(product, warehouse, 5)
    give_stock(product, other_warehouse, 2)
    services.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 4)])
    assert selectors.availability(product_ids=[product.pk]) == {product.pk: {warehouse.pk: 1, other_warehouse.pk: 2}}
