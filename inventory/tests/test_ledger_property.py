"""Property test of the ledger invariant (hypothesis, stateful).

Random sequences of stock operations — receive, adjust, transfer, count, reserve/release, and the
order use cases that reserve, release and issue stock (place, modify, cancel, ship, hold,
reallocate) — must keep, after every step: on_hand = Σ movements, 0 ≤ reserved ≤ on_hand,
reserved = Σ open allocations, an intact hash chain. Refused operations (a 409 or 400 domain
error) must leave no trace. The order use cases live in `orders`; this test imports them to
drive the inventory services the way production does.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.exceptions import Conflict, DomainError
from inventory import services
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.services import StockLine
from orders import services as order_services
from orders.checks import stock_invariant_violations
from orders.models import Allocation, Channel, SalesOrder
from orders.statuses import CANCELLABLE_STATUSES, MODIFIABLE_STATUSES, SHIPPABLE_STATUSES

SKUS = ["P-A", "P-B", "P-C"]
WAREHOUSES = ["W-1", "W-2"]
quantities = st.integers(min_value=1, max_value=12)
skus = st.sampled_from(SKUS)
warehouses = st.sampled_from(WAREHOUSES)


def snapshot() -> tuple:
    """Everything a refused operation must leave untouched."""
    return (
        tuple(StockLevel.objects.order_by("product_id", "warehouse_id").values_list("on_hand", "reserved")),
        StockMovement.objects.count(),
        tuple(Allocation.objects.order_by("id").values_list("quantity", "quantity_shipped")),
        tuple(SalesOrder.objects.order_by("id").values_list("status", flat=True)),
    )


class LedgerMachine(RuleBasedStateMachine):
    """State lives in the database; the machine only remembers ids."""

    @initialize()
    def set_up_world(self) -> None:
        Channel.objects.get_or_create(code="web", defaults={"name": "Web"})
        self.products = {
            sku: Product.objects.get_or_create(sku=sku, defaults={"name": sku, "list_price": Decimal("5.00")})[0]
            for sku in SKUS
        }
        self.warehouses = {
            code: Warehouse.objects.get_or_create(code=code, defaults={"name": code, "priority": index})[0]
            for index, code in enumerate(WAREHOUSES)
        }
        self.manual_reservations: dict[tuple[int, int], int] = {}
        self.order_count = 0

    # -- helpers --------------------------------------------------------------------------------
    def attempt(self, operation, *refusals: type[DomainError]) -> bool:
        """Run one service call; a refusal must be a domain error and must change nothing."""
        before = snapshot()
        expected: tuple[type[DomainError], ...] = refusals or (DomainError,)
        try:
            with transaction.atomic():
                operation()
        except expected:
            assert snapshot() == before, "a refused operation left changes behind"
            return False
        return True

    def open_orders(self, statuses) -> list[int]:
        return list(SalesOrder.objects.filter(status__in=statuses).order_by("id").values_list("id", flat=True))

    # -- stock services -------------------------------------------------------------------------
    @rule(sku=skus, warehouse=warehouses, quantity=quantities)
    def receive(self, sku, warehouse, quantity):
        self.attempt(lambda: services.stock_receive(
            product=self.products[sku], warehouse=self.warehouses[warehouse], quantity=quantity, reference="PO"
        ))

    @rule(sku=skus, warehouse=warehouses, change=st.integers(min_value=-12, max_value=12).filter(bool))
    def adjust(self, sku, warehouse, change):
        self.attempt(lambda: services.stock_adjust(
            product=self.products[sku], warehouse=self.warehouses[warehouse], quantity=change, reason="property"
        ))

    @rule(sku=skus, source=warehouses, destination=warehouses, quantity=quantities)
    def transfer(self, sku, source, destination, quantity):
        self.attempt(lambda: services.stock_transfer(
            product=self.products[sku], from_warehouse=self.warehouses[source],
            to_warehouse=self.warehouses[destination], quantity=quantity,
        ))

    @rule(sku=skus, warehouse=warehouses, counted=st.integers(min_value=0, max_value=30))
    def count(self, sku, warehouse, counted):
        self.attempt(lambda: services.stock_count(
            product=self.products[sku], warehouse=self.warehouses[warehouse], counted=counted
        ))

    # -- order use cases (they reserve, release and issue through inventory.services) ----------
    @rule(lines=st.lists(st.tuples(skus, st.integers(min_value=1, max_value=6)), min_size=1, max_size=3),
          allow_backorder=st.booleans())
    def place(self, lines, allow_backorder):
        self.order_count += 1
        self.attempt(lambda: order_services.place_order(
            channel="web",
            customer=order_services.CustomerInput(name="Prop", email=f"p{self.order_count % 3}@example.com"),
            ship_to=order_services.AddressInput(line1="1 Main St", city="Shanghai"),
            lines=[order_services.LineInput(sku=sku, quantity=q) for sku, q in lines],
            allow_backorder=allow_backorder,
        ))

    @precondition(lambda self: SalesOrder.objects.filter(status__in=MODIFIABLE_STATUSES).exists())
    @rule(data=st.data(), sku=skus, quantity=st.integers(min_value=1, max_value=8))
    def modify(self, data, sku, quantity):
        order_id = data.draw(st.sampled_from(self.open_orders(MODIFIABLE_STATUSES)))
        self.attempt(lambda: order_services.modify_order(
            order=order_id, lines=[order_services.LineInput(sku=sku, quantity=quantity)]
        ))

    @precondition(lambda self: SalesOrder.objects.filter(status__in=CANCELLABLE_STATUSES).exists())
    @rule(data=st.data())
    def cancel(self, data):
        order_id = data.draw(st.sampled_from(self.open_orders(CANCELLABLE_STATUSES)))
        assert self.attempt(lambda: order_services.cancel_order(order=order_id, reason="property"), Conflict) is True

    @precondition(lambda self: SalesOrder.objects.filter(status__in=SHIPPABLE_STATUSES).exists())
    @rule(data=st.data(), everything=st.booleans())
    def ship(self, data, everything):
        order_id = data.draw(st.sampled_from(self.open_orders(SHIPPABLE_STATUSES)))
        order = SalesOrder.objects.get(pk=order_id)
        if everything:
            wanted = None
        else:
            wanted = {line.pk: data.draw(st.integers(min_value=0, max_value=line.quantity_allocated + 1))
                      for line in order.lines.all()}
        self.attempt(lambda: order_services.ship_order(order=order_id, quantities=wanted))

    @precondition(lambda self: SalesOrder.objects.filter(status__in=CANCELLABLE_STATUSES).exists())
    @rule(data=st.data())
    def hold_and_release(self, data):
        order_id = data.draw(st.sampled_from(self.open_orders(CANCELLABLE_STATUSES)))
        if self.attempt(lambda: order_services.hold_order(order=order_id, reason="property")):
            order_services.release_hold(order=order_id)

    @rule()
    def reallocate(self):
        order_services.reallocate_backorders()

    @rule(data=st.data(), sku=skus, warehouse=warehouses, quantity=quantities)
    def reserve_then_release(self, data, sku, warehouse, quantity):
        """A bare reservation (another app's hold on stock), given back within the step: the
        reserved = Σ allocations invariant holds only for reservations that belong to orders."""
        key = (self.products[sku].pk, self.warehouses[warehouse].pk)
        line = StockLine(*key, quantity)
        reserved = self.attempt(lambda: services.stock_reserve(lines=[line]))
        if reserved:
            level = StockLevel.objects.get(product_id=key[0], warehouse_id=key[1])
            assert 0 <= level.reserved <= level.on_hand
            services.stock_release(lines=[line], notify=data.draw(st.booleans()))

    # -- the invariant, checked after every step ------------------------------------------------
    @invariant()
    def books_balance(self):
        assert stock_invariant_violations() == []


class IsolatedLedgerMachine(LedgerMachine):
    """Each example runs inside a savepoint that is rolled back afterwards, so every example
    starts from the same empty world inside the test's database transaction."""

    def __init__(self) -> None:
        self._savepoint = transaction.savepoint()
        super().__init__()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)


@pytest.mark.django_db
def test_random_operation_sequences_keep_the_ledger_invariant():
    run_state_machine_as_test(
        IsolatedLedgerMachine,
        settings=settings(
            max_examples=30, stateful_step_count=25, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
