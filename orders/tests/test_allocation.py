"""Allocation strategies, promised dates and backorder reallocation when stock arrives."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import OutboxMessage
from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services, tasks
from orders.allocation import (
    Need,
    WarehouseInfo,
    add_business_days,
    haversine_km,
    plan_allocation,
    promised_date,
)
from orders.checks import assert_stock_invariants
from orders.models import Channel, SalesOrder
from orders.statuses import AllocationStrategy, OrderStatus
from orders.tests.factories import ChannelFactory, place

S = OrderStatus
SHANGHAI = (31.2304, 121.4737)
BEIJING = (39.9042, 116.4074)
GUANGZHOU = (23.1291, 113.2644)
SH = WarehouseInfo(id=1, code="SH", priority=2, handling_days=1, latitude=SHANGHAI[0], longitude=SHANGHAI[1])
BJ = WarehouseInfo(id=2, code="BJ", priority=1, handling_days=2, latitude=BEIJING[0], longitude=BEIJING[1])
GZ = WarehouseInfo(id=3, code="GZ", priority=3, handling_days=1, latitude=GUANGZHOU[0], longitude=GUANGZHOU[1])
WAREHOUSES = [SH, BJ, GZ]


# --- pure planning ----------------------------------------------------------------------------
def test_haversine_gives_real_distances():
    assert haversine_km(*SHANGHAI, *BEIJING) == pytest.approx(1067, abs=5)
    assert haversine_km(*SHANGHAI, *GUANGZHOU) == pytest.approx(1213, abs=5)
    assert haversine_km(*SHANGHAI, *SHANGHAI) == 0


def test_priority_strategy_takes_from_the_lowest_priority_number_first_and_splits_the_rest():
    plan = plan_allocation([Need(key=0, product_id=7, quantity=5)], {7: {1: 10, 2: 3, 3: 10}}, WAREHOUSES,
                           strategy=AllocationStrategy.PRIORITY)
    assert plan == {0: [(BJ.id, 3), (SH.id, 2)]}


def test_nearest_strategy_ships_from_the_closest_warehouse_to_the_ship_to_point():
    available = {7: {1: 10, 2: 10, 3: 10}}
    shenzhen = (22.5431, 114.0579)
    tianjin = (39.3434, 117.3616)
    need = [Need(key=0, product_id=7, quantity=2)]
    assert plan_allocation(need, available, WAREHOUSES, strategy=AllocationStrategy.NEAREST, point=shenzhen) == {
        0: [(GZ.id, 2)]
    }
    assert plan_allocation(need, available, WAREHOUSES, strategy=AllocationStrategy.NEAREST, point=tianjin) == {
        0: [(BJ.id, 2)]
    }


def test_nearest_strategy_without_coordinates_falls_back_to_priority():
    plan = plan_allocation([Need(key=0, product_id=7, quantity=2)], {7: {1: 10, 2: 10, 3: 10}}, WAREHOUSES,
                           strategy=AllocationStrategy.NEAREST, point=None)
    assert plan == {0: [(BJ.id, 2)]}


def test_nearest_strategy_moves_on_to_the_next_closest_when_the_closest_runs_short():
    shenzhen = (22.5431, 114.0579)
    plan = plan_allocation([Need(key=0, product_id=7, quantity=5)], {7: {1: 10, 2: 10, 3: 2}}, WAREHOUSES,
                           strategy=AllocationStrategy.NEAREST, point=shenzhen)
    assert plan == {0: [(GZ.id, 2), (SH.id, 3)]}


def test_fewest_splits_prefers_one_warehouse_that_can_ship_every_line():
    # BJ (best priority) has line 0 only; GZ has both lines whole.
    needs = [Need(key=0, product_id=7, quantity=2), Need(key=1, product_id=8, quantity=2)]
    available = {7: {2: 5, 3: 2}, 8: {3: 2}}
    assert plan_allocation(needs, available, WAREHOUSES, strategy=AllocationStrategy.FEWEST_SPLITS) == {
        0: [(GZ.id, 2)], 1: [(GZ.id, 2)]
    }
    assert plan_allocation(needs, available, WAREHOUSES, strategy=AllocationStrategy.PRIORITY) == {
        0: [(BJ.id, 2)], 1: [(GZ.id, 2)]
    }


def test_fewest_splits_still_splits_a_line_no_warehouse_has_whole():
    plan = plan_allocation([Need(key=0, product_id=7, quantity=5)], {7: {1: 3, 3: 3}}, WAREHOUSES,
                           strategy=AllocationStrategy.FEWEST_SPLITS)
    assert plan == {0: [(SH.id, 3), (GZ.id, 2)]}


@pytest.mark.parametrize("strategy", list(AllocationStrategy.values))
def test_every_strategy_allocates_partially_and_never_more_than_available(strategy):
    needs = [Need(key=0, product_id=7, quantity=10), Need(key=1, product_id=7, quantity=4), Need(key=2, product_id=9, quantity=1)]
    available = {7: {1: 3, 2: 4, 3: 1}}
    plan = plan_allocation(needs, available, WAREHOUSES, strategy=strategy, point=SHANGHAI)
    assert sum(q for key in (0, 1) for _w, q in plan[key]) == 8
    per_warehouse = {}
    for key in (0, 1):
        for warehouse_id, quantity in plan[key]:
            per_warehouse[warehouse_id] = per_warehouse.get(warehouse_id, 0) + quantity
    assert all(per_warehouse[w] <= available[7][w] for w in per_warehouse)
    assert plan[2] == []  # nothing anywhere: fully backordered


# --- promised dates ---------------------------------------------------------------------------
FRIDAY = date(2025, 3, 7)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (FRIDAY, 1, date(2025, 3, 10)),  # Monday
        (FRIDAY, 3, date(2025, 3, 12)),
        (date(2025, 3, 8), 1, date(2025, 3, 10)),  # Saturday → Monday
        (date(2025, 3, 3), 5, date(2025, 3, 10)),  # a whole working week
        (FRIDAY, 0, FRIDAY),
    ],
)
def test_business_days_skip_weekends(start, days, expected):
    assert add_business_days(start, days) == expected


def test_promise_in_stock_is_today_plus_the_slowest_handling():
    assert promised_date(today=FRIDAY, handling_days=[1, 3], backorder_supply_dates=[]) == date(2025, 3, 12)


def test_promise_for_backorders_waits_for_the_latest_supply_then_handles():
    supply = [date(2025, 3, 14), date(2025, 3, 20)]  # the 20th is a Thursday
    assert promised_date(today=FRIDAY, handling_days=[1], backorder_supply_dates=supply) == date(2025, 3, 21)


def test_no_promise_when_any_backordered_supply_is_unknown():
    assert promised_date(today=FRIDAY, handling_days=[1], backorder_supply_dates=[date(2025, 3, 14), None]) is None


def test_supply_already_overdue_is_promised_from_today():
    assert promised_date(today=FRIDAY, handling_days=[2], backorder_supply_dates=[FRIDAY - timedelta(days=5)]) == date(
        2025, 3, 11
    )


# --- through the services ---------------------------------------------------------------------
@pytest.fixture
def warehouses(db):
    return {
        "SH": WarehouseFactory(code="SH", priority=2, handling_days=1, latitude=Decimal("31.230400"),
                               longitude=Decimal("121.473700")),
        "BJ": WarehouseFactory(code="BJ", priority=1, handling_days=2, latitude=Decimal("39.904200"),
                               longitude=Decimal("116.407400")),
        "GZ": WarehouseFactory(code="GZ", priority=3, handling_days=1, latitude=Decimal("23.129100"),
                               longitude=Decimal("113.264400")),
    }


def allocated_from(order: SalesOrder) -> dict[str, int]:
    result: dict[str, int] = {}
    for line in order.lines.all():
        for allocation in line.allocations.select_related("warehouse"):
            result[allocation.warehouse.code] = result.get(allocation.warehouse.code, 0) + allocation.quantity
    return result


def order_to(point: tuple[float, float], *lines: tuple[str, int], channel: str = "web") -> SalesOrder:
    return services.place_order(
        channel=channel,
        customer=services.CustomerInput(name="Li Lei", email="li@example.com"),
        ship_to=services.AddressInput(line1="1 Road", city="Somewhere", lat=point[0], lon=point[1]),
        lines=[services.LineInput(sku=sku, quantity=quantity) for sku, quantity in lines],
    ).order


def test_the_channel_strategy_decides_where_an_order_ships_from(warehouses):
    # given the same stock everywhere and channels with different strategies
    product = ProductFactory(sku="LAMP")
    for warehouse in warehouses.values():
        give_stock(product, warehouse, 10)
    ChannelFactory(code="web", allocation_strategy=AllocationStrategy.PRIORITY)
    ChannelFactory(code="marketplace", kind="marketplace", allocation_strategy=AllocationStrategy.NEAREST)
    shenzhen = (22.5431, 114.0579)
    # when both ship to Shenzhen
    by_priority = order_to(shenzhen, ("LAMP", 2), channel="web")
    by_distance = order_to(shenzhen, ("LAMP", 2), channel="marketplace")
    # then
    assert by_priority.allocation_strategy == AllocationStrategy.PRIORITY
    assert allocated_from(by_priority) == {"BJ": 2}
    assert allocated_from(by_distance) == {"GZ": 2}
    assert by_distance.promised_date == add_business_days(timezone.localdate(), 1)
    assert_stock_invariants()


def test_fewest_splits_through_the_service(warehouses):
    ChannelFactory(code="phone", kind="phone", allocation_strategy=AllocationStrategy.FEWEST_SPLITS)
    kettle, mug = ProductFactory(sku="KETTLE"), ProductFactory(sku="MUG")
    give_stock(kettle, warehouses["BJ"], 5)
    give_stock(kettle, warehouses["GZ"], 1)
    give_stock(mug, warehouses["GZ"], 4)
    order = order_to(SHANGHAI, ("KETTLE", 1), ("MUG", 4), channel="phone")
    assert allocated_from(order) == {"GZ": 5}
    assert order.status == S.ALLOCATED


def test_partial_allocation_over_warehouses_then_backorder(warehouses):
    ChannelFactory(code="web")
    product = ProductFactory(sku="DESK")
    give_stock(product, warehouses["SH"], 2)
    give_stock(product, warehouses["GZ"], 1)
    order = order_to(SHANGHAI, ("DESK", 5))
    assert allocated_from(order) == {"SH": 2, "GZ": 1}
    line = order.lines.get()
    assert (line.quantity_allocated, line.quantity_backordered) == (3, 2)
    assert order.status == S.PARTIALLY_ALLOCATED


def test_inactive_warehouses_are_not_allocated_from(warehouses):
    ChannelFactory(code="web")
    product = ProductFactory(sku="CHAIR")
    give_stock(product, warehouses["BJ"], 5)
    warehouses["BJ"].active = False
    warehouses["BJ"].save()
    order = order_to(SHANGHAI, ("CHAIR", 1))
    assert order.status == S.BACKORDERED


def test_arriving_stock_is_offered_to_the_oldest_backorders_first(warehouses):
    # given three backordered orders; the one placed last is the oldest (imported history)
    ChannelFactory(code="web")
    product = ProductFactory(sku="BIKE")
    first, second, oldest = (place(("BIKE", 2)).order for _ in range(3))
    SalesOrder.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert {o.status for o in (first, second, oldest)} == {S.BACKORDERED}
    OutboxMessage.objects.all().delete()
    # when 3 units arrive: the receipt enqueues the reallocation through the outbox
    give_stock(product, warehouses["SH"], 3)
    message = OutboxMessage.objects.get(task_name="orders.tasks.reallocate_backorders_task")
    assert message.kwargs == {"product_ids": [product.pk]}
    # and the task runs as a worker would run it (claiming its outbox row)
    served = tasks.reallocate_backorders_task(**message.kwargs, _outbox_id=message.pk)
    # then the oldest order is served in full, the next one in part, the last not at all
    assert served == 2
    statuses = {o.pk: SalesOrder.objects.get(pk=o.pk).status for o in (first, second, oldest)}
    assert statuses == {oldest.pk: S.ALLOCATED, first.pk: S.PARTIALLY_ALLOCATED, second.pk: S.BACKORDERED}
    message.refresh_from_db()
    assert message.processed_at is not None
    # and a duplicate delivery of the same message does nothing
    assert tasks.reallocate_backorders_task(**message.kwargs, _outbox_id=message.pk) is None
    assert StockLevel.objects.get(product=product, warehouse=warehouses["SH"]).reserved == 3
    assert_stock_invariants()


def test_cancelling_frees_stock_for_a_waiting_order(warehouses):
    ChannelFactory(code="web")
    product = ProductFactory(sku="LAMP")
    give_stock(product, warehouses["SH"], 2)
    holder = place(("LAMP", 2)).order
    waiting = place(("LAMP", 2)).order
    assert waiting.status == S.BACKORDERED
    OutboxMessage.objects.all().delete()
    services.cancel_order(order=holder, reason="duplicate order")
    message = OutboxMessage.objects.get(task_name="orders.tasks.reallocate_backorders_task")
    tasks.reallocate_backorders_task(**message.kwargs)
    waiting.refresh_from_db()
    assert waiting.status == S.ALLOCATED
    assert_stock_invariants()


def test_partially_shipped_orders_get_their_backorders_filled(warehouses):
    ChannelFactory(code="web")
    product = ProductFactory(sku="SOFA")
    give_stock(product, warehouses["SH"], 1)
    order = place(("SOFA", 3)).order
    services.ship_order(order=order)
    give_stock(product, warehouses["SH"], 5)
    assert services.reallocate_backorders(product_ids=[product.pk]) == 1
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_SHIPPED
    services.ship_order(order=order)
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert_stock_invariants()


def test_reallocation_with_no_stock_changes_nothing(warehouses):
    ChannelFactory(code="web")
    ProductFactory(sku="GHOST")
    order = place(("GHOST", 1)).order
    assert services.reallocate_backorders() == 0
    assert services.reallocate_backorders(product_ids=[]) == 0
    order.refresh_from_db()
    assert order.status == S.BACKORDERED


def test_channel_strategies_are_stored_per_channel(db):
    channel = ChannelFactory(code="edi", kind="edi", allocation_strategy=AllocationStrategy.FEWEST_SPLITS)
    assert Channel.objects.get(pk=channel.pk).allocation_strategy == "fewest_splits"
