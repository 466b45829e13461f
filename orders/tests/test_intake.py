"""place_order's hot path (orders.intake): one read, one statement that reserves and writes.

The careful path (lock, plan, reserve, then write) is the reference: the hot path must write
exactly the same rows, fall back to it when its unlocked snapshot was stale, and stay short.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from core.exceptions import InsufficientStock
from core.models import OutboxMessage
from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import intake, services
from orders.checks import assert_stock_invariants
from orders.models import Allocation, OrderEvent, OrderLine, SalesOrder
from orders.statuses import OrderStatus
from orders.tests.factories import ChannelFactory, CustomerFactory, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked():
    shanghai = WarehouseFactory(code="SH", priority=1, handling_days=1)
    beijing = WarehouseFactory(code="BJ", priority=2, handling_days=3, city="Beijing",
                               latitude=Decimal("39.904200"), longitude=Decimal("116.407400"))
    tea = ProductFactory(sku="TEA", list_price=Decimal("12.50"))
    cup = ProductFactory(sku="CUP", list_price=Decimal("3.20"))
    give_stock(tea, shanghai, 2)
    give_stock(tea, beijing, 10)
    give_stock(cup, beijing, 10)
    return shanghai, beijing, tea, cup


@pytest.fixture
def careful_path(monkeypatch):
    """Make every order take the careful path (as if the snapshot never covered the lines)."""
    monkeypatch.setattr(intake.IntakeRead, "covers", lambda self, lines: False)


VOLATILE = {"id", "number", "external_ref", "tracking_token", "created_at", "updated_at", "ship_to", "order", "line"}


def written(order: SalesOrder) -> dict:
    """Everything the database holds for an order, minus ids, numbers and timestamps."""
    order = SalesOrder.objects.get(pk=order.pk)

    def plain(obj) -> dict:
        return {key: value for key, value in model_to_dict(obj).items() if key not in VOLATILE}

    lines = order.lines.order_by("line_no")
    return {
        "order": plain(order),
        "address": {k: v for k, v in model_to_dict(order.ship_to).items() if k != "id"},
        "lines": [{**plain(line), "backordered": line.quantity_backordered} for line in lines],
        "allocations": [
            (a.line.line_no, a.warehouse_id, a.quantity, a.quantity_shipped)
            for a in Allocation.objects.filter(line__order=order).order_by("line__line_no", "warehouse_id")
        ],
        "events": [plain(event) for event in order.events.order_by("id")],
        "outbox": list(OutboxMessage.objects.filter(kwargs__order_id=order.pk).values_list("task_name", flat=True)),
    }


def placed_and_rolled_back(*lines: tuple[str, int]) -> dict:
    with transaction.atomic():
        order = place(*lines, external_ref="SAME-REF").order
        assert order.status == OrderStatus.ALLOCATED
        assert_stock_invariants(ledger_chain=False)
        rows = written(order)
        transaction.set_rollback(True)
    return rows


def test_the_hot_path_writes_exactly_what_the_careful_path_writes(stocked, monkeypatch):
    # given an order that splits tea over two warehouses and takes cups from one
    lines = (("TEA", 5), ("CUP", 2))
    ChannelFactory(code="web")
    CustomerFactory(name="Ada Li", email="ada@example.com")
    # when it is placed on the hot path, rolled back, and placed on the careful path
    hot = placed_and_rolled_back(*lines)
    monkeypatch.setattr(intake.IntakeRead, "covers", lambda self, lines: False)
    careful = placed_and_rolled_back(*lines)
    # then both wrote the same rows
    assert len(hot["allocations"]) == 3  # the comparison is not vacuous
    assert hot == careful


def test_the_hot_path_returns_saved_objects_with_database_values(stocked):
    placed = place(("TEA", 3), ("CUP", 1), external_ref="HOT-2")
    order = SalesOrder.objects.get(pk=placed.order.pk)
    # the returned objects carry the ids and database-computed values of the rows
    assert placed.created
    assert placed.order.number == order.number and placed.order.number.startswith("SO-")
    assert placed.order.ship_to_id == order.ship_to_id
    assert not placed.order._state.adding
    assert [line.pk for line in placed.lines] == list(order.lines.order_by("line_no").values_list("pk", flat=True))
    assert [line.quantity_backordered for line in placed.lines] == [0, 0]
    assert [line.quantity_allocated for line in placed.lines] == [3, 1]
    assert all(line.order_id == order.pk for line in placed.lines)


def test_a_stale_snapshot_falls_back_to_the_careful_path(stocked, monkeypatch):
    # given a snapshot that promises far more tea than there is (a concurrent order took it)
    shanghai, beijing, tea, _cup = stocked
    real_read = intake.read

    def stale_read(**kwargs):
        known = real_read(**kwargs)
        return replace(known, available={**known.available, tea.pk: {shanghai.pk: 100, beijing.pk: 100}})

    monkeypatch.setattr(intake, "read", stale_read)
    # when an order wants more than the 12 really there
    placed = place(("TEA", 20), external_ref="STALE-1")
    # then the guarded reservation refused the plan and the careful path allocated what exists
    assert placed.order.status == OrderStatus.PARTIALLY_ALLOCATED
    assert [line.quantity_allocated for line in placed.lines] == [12]
    assert SalesOrder.objects.filter(external_ref="STALE-1").count() == 1
    assert StockLevel.objects.get(product=tea, warehouse=beijing).reserved == 10
    assert_stock_invariants()


def test_a_stale_snapshot_without_backorders_is_refused_and_writes_nothing(stocked, monkeypatch):
    shanghai, beijing, tea, _cup = stocked
    real_read = intake.read
    monkeypatch.setattr(
        intake, "read",
        lambda **kwargs: replace(real_read(**kwargs), available={tea.pk: {shanghai.pk: 100, beijing.pk: 100}}),
    )
    with pytest.raises(InsufficientStock):
        place(("TEA", 20), external_ref="STALE-2", allow_backorder=False)
    assert not SalesOrder.objects.filter(external_ref="STALE-2").exists()
    assert not OrderLine.objects.exists() and not OrderEvent.objects.exists()
    assert StockLevel.objects.filter(reserved__gt=0).count() == 0


def test_backorders_take_the_careful_path_and_match_it(stocked, careful_path):
    placed = place(("TEA", 15), ("CUP", 2), external_ref="BACK-1")
    assert placed.order.status == OrderStatus.PARTIALLY_ALLOCATED
    assert [line.quantity_backordered for line in placed.lines] == [3, 0]
    assert_stock_invariants()


def test_the_hot_path_is_one_read_and_one_statement_that_reserves_and_writes(stocked):
    place(("TEA", 1))  # the channel and the customer exist from now on
    with CaptureQueriesContext(connection) as queries:
        services.place_order(
            channel="web", customer=services.CustomerInput(name="Ada Li", email="ada@example.com"),
            ship_to=services.AddressInput(line1="1 Main St", city="Shanghai"),
            lines=[services.LineInput(sku="TEA", quantity=1), services.LineInput(sku="CUP", quantity=1)],
            external_ref="COUNT-1",
        )
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # the read; the reservation with the order, its rows and the outbox message
    assert len(statements) == 2, "\n".join(statements)
    assert "stock_reserved AS (" in statements[1] and '"core_outboxmessage"' in statements[1]


def test_a_repeated_external_ref_returns_the_first_order_after_one_read(stocked):
    first = place(("TEA", 1), external_ref="DUP-1").order
    with CaptureQueriesContext(connection) as queries:
        again = services.place_order(
            channel="web", customer=services.CustomerInput(name="Ada Li", email="ada@example.com"),
            ship_to=services.AddressInput(line1="1 Main St", city="Shanghai"),
            lines=[services.LineInput(sku="TEA", quantity=1)], external_ref="DUP-1",
        )
    assert not again.created and again.order.pk == first.pk
    assert len(queries.captured_queries) == 2  # the read (it finds the order) and loading it


def test_a_stale_snapshot_reserves_nothing_not_just_the_lines_that_fit(stocked, monkeypatch):
    # given a snapshot that promises too much tea (cups are really there)
    shanghai, beijing, tea, cup = stocked
    real_read = intake.read
    monkeypatch.setattr(
        intake, "read",
        lambda **kwargs: replace(real_read(**kwargs), available={
            tea.pk: {shanghai.pk: 100, beijing.pk: 100}, cup.pk: {beijing.pk: 10}}),
    )
    seen = []
    real_create = services._create_order

    def look_then_create(**kwargs):
        if kwargs["snapshot"] is None:
            # what the failed hot statement left behind, as the careful path starts
            seen.append((dict(StockLevel.objects.filter(reserved__gt=0).values_list("product__sku", "reserved")),
                         SalesOrder.objects.filter(external_ref="STALE-3").exists(),
                         OutboxMessage.objects.filter(task_name="orders.tasks.order_placed_task").exists()))
        return real_create(**kwargs)

    monkeypatch.setattr(services, "_create_order", look_then_create)
    # when the order wants 20 tea (12 exist) and 2 cups
    placed = place(("TEA", 20), ("CUP", 2), external_ref="STALE-3")
    # then the hot statement reserved no cups either and wrote nothing; the careful path did
    assert seen == [({}, False, False)]
    assert placed.order.status == OrderStatus.PARTIALLY_ALLOCATED
    assert [line.quantity_allocated for line in placed.lines] == [12, 2]
    assert OutboxMessage.objects.filter(kwargs__order_id=placed.order.pk).count() == 1
    assert_stock_invariants()


def test_one_sku_on_two_lines_is_reserved_once_for_their_sum(stocked):
    shanghai, beijing, tea, _cup = stocked
    # when two lines name tea (2 + 3 units: Shanghai's 2, then Beijing)
    placed = place(("TEA", 2), ("TEA", 3), external_ref="TWICE-1")
    # then both lines are allocated, the stock rows reserved once each for what they give
    assert placed.order.status == OrderStatus.ALLOCATED
    assert [line.quantity_allocated for line in placed.lines] == [2, 3]
    assert StockLevel.objects.get(product=tea, warehouse=shanghai).reserved == 2
    assert StockLevel.objects.get(product=tea, warehouse=beijing).reserved == 3
    assert_stock_invariants()
