"""Concurrent orders on real connections: never oversell, never deadlock, never duplicate.

Every test runs threads that each open their own PostgreSQL connection, wait at a barrier so
they hit the database together, and close their connection at the end. Nothing is mocked.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import OperationalError, connection

from core.exceptions import InsufficientStock
from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services
from orders.checks import assert_stock_invariants
from orders.models import Customer, SalesOrder
from orders.statuses import OrderStatus
from orders.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)
S = OrderStatus


@dataclass
class Outcome:
    results: list[Any]
    errors: list[BaseException | None]

    def unexpected(self, *allowed: type[BaseException]) -> list[BaseException]:
        return [error for error in self.errors if error is not None and not isinstance(error, allowed)]


def _connect() -> None:
    """Open this thread's connection before the race; wait if the server is briefly full."""
    for attempt in range(50):
        try:
            connection.ensure_connection()
            return
        except OperationalError as exc:
            if "too many clients" not in str(exc) or attempt == 49:
                raise
            connection.close()
            time.sleep(0.1)


def run_together(jobs: list[Callable[[], Any]], *, timeout: float = 120) -> Outcome:
    """Run each job in its own thread and connection, all released at once by a barrier."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException | None] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            _connect()
            barrier.wait(timeout=60)
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 — every failure is collected and judged by the test
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung: lock wait or deadlock"
    return Outcome(results, errors)


def order_job(lines: list[tuple[str, int]], *, email: str, allow_backorder: bool = True, external_ref: str = ""):
    def job() -> services.PlacedOrder:
        return services.place_order(
            channel="web",
            customer=services.CustomerInput(name=email.split("@")[0], email=email),
            ship_to=services.AddressInput(line1="1 Main St", city="Shanghai", lat=31.23, lon=121.47),
            lines=[services.LineInput(sku=sku, quantity=quantity) for sku, quantity in lines],
            allow_backorder=allow_backorder,
            external_ref=external_ref,
        )

    return job


@pytest.fixture
def shop():
    ChannelFactory(code="web")
    return {"SH": WarehouseFactory(code="SH", priority=1), "BJ": WarehouseFactory(code="BJ", priority=2)}


def reserved_total(product) -> int:
    return sum(StockLevel.objects.filter(product=product).values_list("reserved", flat=True))


def available_total(product) -> int:
    return sum(level.available for level in StockLevel.objects.filter(product=product))


@pytest.mark.parametrize("allow_backorder", [True, False], ids=["backorder", "refuse"])
def test_32_clients_race_for_the_last_10_units(shop, allow_backorder):
    # given the last 10 units, spread over two warehouses
    product = ProductFactory(sku="LAST")
    give_stock(product, shop["SH"], 6)
    give_stock(product, shop["BJ"], 4)
    # when 32 customers order one unit each at the same moment
    outcome = run_together(
        [order_job([("LAST", 1)], email=f"c{i}@example.com", allow_backorder=allow_backorder) for i in range(32)]
    )
    # then exactly 10 are allocated and the rest are cleanly backordered or refused
    assert outcome.unexpected(InsufficientStock) == []
    statuses = [result.order.status for result in outcome.results if result is not None]
    assert statuses.count(S.ALLOCATED) == 10
    if allow_backorder:
        assert statuses.count(S.BACKORDERED) == 22
        assert SalesOrder.objects.count() == 32
    else:
        assert sum(isinstance(error, InsufficientStock) for error in outcome.errors) == 22
        assert SalesOrder.objects.count() == 10
    assert reserved_total(product) == 10
    assert available_total(product) == 0
    assert_stock_invariants()


@pytest.mark.parametrize("allow_backorder", [True, False], ids=["backorder", "refuse"])
def test_64_clients_ordering_1_to_3_units_never_oversell(shop, allow_backorder):
    # given
    product = ProductFactory(sku="HOT")
    give_stock(product, shop["SH"], 10)
    randomness = random.Random(64)
    quantities = [randomness.randint(1, 3) for _ in range(64)]
    # when
    outcome = run_together(
        [order_job([("HOT", q)], email=f"h{i}@example.com", allow_backorder=allow_backorder) for i, q in enumerate(quantities)]
    )
    # then
    assert outcome.unexpected(InsufficientStock) == []
    placed = [result for result in outcome.results if result is not None]
    allocated_units = sum(line.quantity_allocated for result in placed for line in result.order.lines.all())
    assert allocated_units == reserved_total(product) <= 10
    if allow_backorder:
        assert len(placed) == 64
        assert reserved_total(product) == 10  # demand (≥ 64) exceeds supply: every unit went out
    else:
        assert all(result.order.status == S.ALLOCATED for result in placed)
        left = available_total(product)
        refused = [q for q, error in zip(quantities, outcome.errors, strict=True) if error is not None]
        assert refused and all(q > left for q in refused)  # refused only when it truly did not fit
    assert_stock_invariants()


def test_two_orders_locking_the_same_skus_in_opposite_order_never_deadlock(shop):
    # given two products with plenty of stock in both warehouses
    for sku in ("LEFT", "RIGHT"):
        product = ProductFactory(sku=sku)
        give_stock(product, shop["SH"], 500)
        give_stock(product, shop["BJ"], 500)
    # when pairs of orders name them in opposite line order, many rounds at once
    jobs = []
    for i in range(16):
        jobs.append(order_job([("LEFT", 2), ("RIGHT", 2)], email=f"l{i}@example.com"))
        jobs.append(order_job([("RIGHT", 2), ("LEFT", 2)], email=f"r{i}@example.com"))
    outcome = run_together(jobs)
    # then all finish, none hit a deadlock
    assert outcome.unexpected() == []
    assert {result.order.status for result in outcome.results} == {S.ALLOCATED}
    assert_stock_invariants()


def test_32_multi_line_orders_over_overlapping_skus_in_random_order_all_finish(shop):
    # given 6 SKUs, scarce enough that some lines backorder
    skus = [f"MIX-{i}" for i in range(6)]
    for index, sku in enumerate(skus):
        product = ProductFactory(sku=sku)
        give_stock(product, shop["SH"], 6 + index)
        give_stock(product, shop["BJ"], 4)
    randomness = random.Random(32)
    orders = []
    for _ in range(32):
        chosen = randomness.sample(skus, randomness.randint(2, 5))
        orders.append([(sku, randomness.randint(1, 3)) for sku in chosen])
    # when 32 clients place them at once, half refusing backorders
    outcome = run_together(
        [order_job(lines, email=f"m{i}@example.com", allow_backorder=i % 2 == 0) for i, lines in enumerate(orders)]
    )
    # then every one finished: placed or cleanly refused, never a deadlock or another error
    assert outcome.unexpected(InsufficientStock) == []
    refused = [i for i, error in enumerate(outcome.errors) if error is not None]
    assert all(i % 2 == 1 for i in refused)
    assert_stock_invariants()


def test_modifying_orders_while_others_are_placed_never_deadlocks(shop):
    # given orders holding the high-id product that will switch to the low-id one, which new
    # orders lock first (a modify releases one product and reserves another in one transaction)
    low, high = ProductFactory(sku="LOW-ID"), ProductFactory(sku="HIGH-ID")
    assert low.pk < high.pk
    for product in (low, high):
        give_stock(product, shop["SH"], 1000)
    existing = [order_job([("HIGH-ID", 1)], email=f"e{i}@example.com")().order for i in range(16)]
    connection.close()

    def modify(order: SalesOrder) -> Callable[[], Any]:
        return lambda: services.modify_order(order=order.pk, lines=[services.LineInput(sku="LOW-ID", quantity=1)])

    jobs: list[Callable[[], Any]] = []
    for i, order in enumerate(existing):
        jobs.append(modify(order))
        jobs.append(order_job([("HIGH-ID", 1), ("LOW-ID", 1)], email=f"n{i}@example.com"))
    # when they all run at once
    outcome = run_together(jobs)
    # then
    assert outcome.unexpected() == []
    assert_stock_invariants()


def test_16_clients_posting_the_same_external_ref_get_one_order(shop):
    # given
    product = ProductFactory(sku="ONCE")
    give_stock(product, shop["SH"], 100)
    # when the same shop order is delivered 16 times at once, by a customer we have never seen
    outcome = run_together(
        [order_job([("ONCE", 3)], email="first.time@example.com", external_ref="SHOP-42") for _ in range(16)]
    )
    # then one order, one customer, one reservation; every caller got that order back
    assert outcome.unexpected() == []
    assert SalesOrder.objects.filter(external_ref="SHOP-42").count() == 1
    order = SalesOrder.objects.get(external_ref="SHOP-42")
    assert {result.order.pk for result in outcome.results} == {order.pk}
    assert sum(result.created for result in outcome.results) == 1
    assert Customer.objects.filter(email="first.time@example.com").count() == 1
    assert reserved_total(product) == 3
    assert_stock_invariants()


def test_16_clients_posting_the_same_external_ref_without_backorders_get_one_order(shop):
    # given only enough stock for one copy of the order
    product = ProductFactory(sku="SCARCE")
    give_stock(product, shop["SH"], 3)
    # when the same order arrives 16 times at once and may not be backordered
    outcome = run_together(
        [order_job([("SCARCE", 3)], email="shop@example.com", external_ref="SHOP-43", allow_backorder=False)
         for _ in range(16)]
    )
    # then every caller gets the one order back (a duplicate is not "out of stock")
    assert outcome.unexpected() == []
    order = SalesOrder.objects.get(external_ref="SHOP-43")
    assert {result.order.pk for result in outcome.results} == {order.pk}
    assert reserved_total(product) == 3
    assert_stock_invariants()


def test_new_customers_ordering_at_once_are_created_once(shop):
    product = ProductFactory(sku="GIFT")
    give_stock(product, shop["SH"], 100)
    outcome = run_together([order_job([("GIFT", 1)], email="Same.Person@example.com") for _ in range(16)])
    assert outcome.unexpected() == []
    assert SalesOrder.objects.count() == 16
    assert Customer.objects.count() == 1
    assert_stock_invariants()
