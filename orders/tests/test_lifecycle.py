"""The order lifecycle: every allowed transition of orders.statuses.TRANSITIONS happens through a
use-case service (or, where no use case leads there, through `order_transition` itself), and every
forbidden one is refused with a clear Conflict and leaves the order as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction

from core.exceptions import Conflict, ValidationFailed
from inventory.models import Product, StockLevel, Warehouse
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services
from orders.checks import assert_stock_invariants
from orders.models import Address, OrderEvent, OrderLine, SalesOrder
from orders.statuses import TRANSITIONS, EventKind, OrderStatus
from orders.tests.factories import ChannelFactory, CustomerFactory, place

pytestmark = pytest.mark.django_db
S = OrderStatus


@dataclass
class World:
    product: Product
    other: Product  # never in stock
    warehouse: Warehouse


@pytest.fixture
def world() -> World:
    ChannelFactory(code="web")
    return World(
        product=ProductFactory(sku="LC-1"), other=ProductFactory(sku="LC-EMPTY"), warehouse=WarehouseFactory(code="LCW")
    )


# --- reaching a status through the services ---------------------------------------------------
def draft_order(world: World, quantity: int = 2) -> SalesOrder:
    """Drafts are typed in by staff before confirmation; no use case creates one, so build it."""
    customer = CustomerFactory()
    address = Address.objects.create(customer=customer, line1="1 Main St", city="Shanghai")
    order = SalesOrder.objects.create(
        channel=ChannelFactory(code="web"), customer=customer, ship_to=address, status=S.DRAFT
    )
    OrderLine.objects.create(
        order=order, line_no=1, product=world.product, quantity=quantity, unit_price=world.product.list_price
    )
    return order


def stock_to(world: World, units: int) -> None:
    """Make the test product's free stock exactly `units` (through the ledger)."""
    row = StockLevel.objects.filter(product=world.product, warehouse=world.warehouse).first()
    available = row.available if row else 0
    if units > available:
        give_stock(world.product, world.warehouse, units - available)


def placed(world: World, *, quantity: int, stock: int) -> SalesOrder:
    stock_to(world, stock)
    return place((world.product.sku, quantity)).order


def first_line(order: SalesOrder) -> OrderLine:
    return order.lines.order_by("line_no").first()


def reach(world: World, status: str, *, quantity: int = 2, held_from: str = S.ALLOCATED) -> SalesOrder:
    if status == S.DRAFT:
        return draft_order(world, quantity)
    if status == S.CONFIRMED:
        order = draft_order(world, quantity)
        with transaction.atomic():
            services.order_transition(order=order, to=S.CONFIRMED)
        return order
    if status == S.ALLOCATED:
        return placed(world, quantity=quantity, stock=10)
    if status == S.PARTIALLY_ALLOCATED:
        return placed(world, quantity=max(quantity, 2), stock=1)
    if status == S.BACKORDERED:
        return placed(world, quantity=quantity, stock=0)
    if status == S.PICKING:
        return services.start_picking(order=reach(world, S.ALLOCATED, quantity=quantity))
    if status == S.PARTIALLY_SHIPPED:
        order = reach(world, S.ALLOCATED, quantity=max(quantity, 3))
        services.ship_order(order=order, quantities={first_line(order).pk: 1})
        return order
    if status == S.SHIPPED:
        order = reach(world, S.ALLOCATED, quantity=quantity)
        services.ship_order(order=order)
        return order
    if status == S.DELIVERED:
        return services.mark_delivered(order=reach(world, S.SHIPPED, quantity=quantity))
    if status == S.CLOSED:
        return services.close_order(order=reach(world, S.DELIVERED, quantity=quantity))
    if status == S.ON_HOLD:
        return services.hold_order(order=reach(world, held_from, quantity=quantity), reason="customer called")
    if status == S.CANCELLED:
        return services.cancel_order(order=reach(world, S.ALLOCATED, quantity=quantity), reason="changed mind")
    raise AssertionError(status)


# --- allowed transitions ----------------------------------------------------------------------
Setup = Callable[[World], SalesOrder]
Action = Callable[[World, SalesOrder], object]


@dataclass(frozen=True)
class Case:
    source: str
    target: str
    setup: Setup
    action: Action
    final: str  # the status the order ends in (confirm_order goes on to allocate)


def hold(world: World, order: SalesOrder) -> object:
    return services.hold_order(order=order, reason="fraud check")


def cancel(world: World, order: SalesOrder) -> object:
    return services.cancel_order(order=order, reason="customer cancelled")


def release(world: World, order: SalesOrder) -> object:
    return services.release_hold(order=order)


def allocate_after_receiving(units: int) -> Action:
    def action(world: World, order: SalesOrder) -> object:
        give_stock(world.product, world.warehouse, units)
        return services.allocate_order(order=order)

    return action


def modify_quantity(quantity: int) -> Action:
    def action(world: World, order: SalesOrder) -> object:
        return services.modify_order(order=order, lines=[services.LineInput(sku=world.product.sku, quantity=quantity)])

    return action


def modify_to_unstocked(world: World, order: SalesOrder) -> object:
    return services.modify_order(order=order, lines=[services.LineInput(sku=world.other.sku, quantity=1)])


def ship_one(world: World, order: SalesOrder) -> object:
    return services.ship_order(order=order, quantities={first_line(order).pk: 1})


def ship_all(world: World, order: SalesOrder) -> object:
    return services.ship_order(order=order)


def at(status: str, **options) -> Setup:
    return lambda world: reach(world, status, **options)


def held(status: str) -> Setup:
    return lambda world: reach(world, S.ON_HOLD, held_from=status)


def picking_partially_allocated(quantity: int) -> Setup:
    return lambda world: services.start_picking(order=placed(world, quantity=quantity, stock=1))


STANDARD_EXITS = {S.ON_HOLD: hold, S.CANCELLED: cancel}
CASES: list[Case] = [
    Case(S.DRAFT, S.CONFIRMED, at(S.DRAFT), lambda w, o: (stock_to(w, 5), services.confirm_order(order=o)), S.ALLOCATED),
    Case(S.CONFIRMED, S.ALLOCATED, at(S.CONFIRMED), allocate_after_receiving(5), S.ALLOCATED),
    Case(S.CONFIRMED, S.PARTIALLY_ALLOCATED, at(S.CONFIRMED), allocate_after_receiving(1), S.PARTIALLY_ALLOCATED),
    Case(S.CONFIRMED, S.BACKORDERED, at(S.CONFIRMED), lambda w, o: services.allocate_order(order=o), S.BACKORDERED),
    Case(S.ALLOCATED, S.PARTIALLY_ALLOCATED, at(S.ALLOCATED), modify_quantity(20), S.PARTIALLY_ALLOCATED),
    Case(S.ALLOCATED, S.BACKORDERED, at(S.ALLOCATED), modify_to_unstocked, S.BACKORDERED),
    Case(S.ALLOCATED, S.PICKING, at(S.ALLOCATED), lambda w, o: services.start_picking(order=o), S.PICKING),
    Case(S.ALLOCATED, S.PARTIALLY_SHIPPED, at(S.ALLOCATED), ship_one, S.PARTIALLY_SHIPPED),
    Case(S.ALLOCATED, S.SHIPPED, at(S.ALLOCATED), ship_all, S.SHIPPED),
    Case(S.PARTIALLY_ALLOCATED, S.ALLOCATED, at(S.PARTIALLY_ALLOCATED), allocate_after_receiving(5), S.ALLOCATED),
    Case(S.PARTIALLY_ALLOCATED, S.BACKORDERED, at(S.PARTIALLY_ALLOCATED), modify_to_unstocked, S.BACKORDERED),
    Case(S.PARTIALLY_ALLOCATED, S.PICKING, at(S.PARTIALLY_ALLOCATED), lambda w, o: services.start_picking(order=o),
         S.PICKING),
    Case(S.PARTIALLY_ALLOCATED, S.PARTIALLY_SHIPPED, at(S.PARTIALLY_ALLOCATED), ship_all, S.PARTIALLY_SHIPPED),
    Case(S.BACKORDERED, S.ALLOCATED, at(S.BACKORDERED), allocate_after_receiving(5), S.ALLOCATED),
    Case(S.BACKORDERED, S.PARTIALLY_ALLOCATED, at(S.BACKORDERED), allocate_after_receiving(1), S.PARTIALLY_ALLOCATED),
    Case(S.PICKING, S.ALLOCATED, picking_partially_allocated(2), allocate_after_receiving(5), S.ALLOCATED),
    Case(S.PICKING, S.PARTIALLY_ALLOCATED, picking_partially_allocated(3), allocate_after_receiving(1),
         S.PARTIALLY_ALLOCATED),
    Case(S.PICKING, S.PARTIALLY_SHIPPED, at(S.PICKING), ship_one, S.PARTIALLY_SHIPPED),
    Case(S.PICKING, S.SHIPPED, at(S.PICKING), ship_all, S.SHIPPED),
    Case(S.PARTIALLY_SHIPPED, S.PARTIALLY_SHIPPED, at(S.PARTIALLY_SHIPPED), ship_one, S.PARTIALLY_SHIPPED),
    Case(S.PARTIALLY_SHIPPED, S.SHIPPED, at(S.PARTIALLY_SHIPPED), ship_all, S.SHIPPED),
    Case(S.SHIPPED, S.DELIVERED, at(S.SHIPPED), lambda w, o: services.mark_delivered(order=o), S.DELIVERED),
    Case(S.DELIVERED, S.CLOSED, at(S.DELIVERED), lambda w, o: services.close_order(order=o), S.CLOSED),
    *[
        Case(S.ON_HOLD, previous, held(previous), release, previous)
        for previous in (S.DRAFT, S.CONFIRMED, S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.BACKORDERED, S.PICKING,
                         S.PARTIALLY_SHIPPED)
    ],
    Case(S.ON_HOLD, S.CANCELLED, held(S.ALLOCATED), cancel, S.CANCELLED),
    *[
        Case(source, target, at(source), action, target)
        for source in (S.DRAFT, S.CONFIRMED, S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.BACKORDERED, S.PICKING,
                       S.PARTIALLY_SHIPPED)
        for target, action in STANDARD_EXITS.items()
    ],
]

# Allowed by the table, but no use case leads there: re-affirming an allocation state (a use case
# only records a change), shipping everything of an order that still has unallocated units, and
# dropping every allocation of an order being picked. `order_transition` accepts them.
ONLY_BY_ORDER_TRANSITION = {
    (S.ALLOCATED, S.ALLOCATED),
    (S.PARTIALLY_ALLOCATED, S.PARTIALLY_ALLOCATED),
    (S.BACKORDERED, S.BACKORDERED),
    (S.PARTIALLY_ALLOCATED, S.SHIPPED),
    (S.PICKING, S.BACKORDERED),
}
ALLOWED = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
FORBIDDEN = sorted((source, target) for source in S.values for target in S.values if (source, target) not in ALLOWED)


def status_events(order: SalesOrder, source: str, target: str) -> int:
    return OrderEvent.objects.filter(order=order, kind=EventKind.STATUS, from_status=source, to_status=target).count()


def test_the_cases_cover_exactly_the_transition_table():
    covered = {(case.source, case.target) for case in CASES}
    assert len(covered) == len(CASES), "a transition is listed twice"
    assert covered | ONLY_BY_ORDER_TRANSITION == ALLOWED
    assert not covered & ONLY_BY_ORDER_TRANSITION


@pytest.mark.parametrize("case", CASES, ids=[f"{c.source}->{c.target}" for c in CASES])
def test_allowed_transition_through_its_use_case(world, case):
    # given an order in the source status, reached through the services
    order = case.setup(world)
    order.refresh_from_db()
    assert order.status == case.source
    events_before = status_events(order, case.source, case.target)
    # when the use case runs
    case.action(world, order)
    # then the transition was recorded by the one transition function, and the books balance
    order.refresh_from_db()
    assert order.status == case.final
    assert status_events(order, case.source, case.target) == events_before + 1
    assert_stock_invariants()


@pytest.mark.parametrize(("source", "target"), sorted(ONLY_BY_ORDER_TRANSITION), ids=lambda s: s)
def test_allowed_transition_without_a_use_case_is_accepted_by_order_transition(world, source, target):
    order = reach(world, source)
    with transaction.atomic():
        services.order_transition(order=order, to=target, reason="manual correction")
    order.refresh_from_db()
    assert order.status == target
    assert status_events(order, source, target) == 1


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{s}->{t}" for s, t in FORBIDDEN])
def test_forbidden_transition_is_a_conflict_naming_both_states(world, source, target):
    # given
    order = reach(world, source)
    order.refresh_from_db()
    events_before = OrderEvent.objects.filter(order=order).count()
    # when
    with pytest.raises(Conflict) as caught, transaction.atomic():
        services.order_transition(order=order, to=target)
    # then: a 409 that says what was refused, and nothing changed
    error = caught.value
    assert error.status == 409
    assert error.field == "status"
    assert error.details == {"from": source, "to": target}
    assert str(S(source).label) in error.message
    assert str(S(target).label) in error.message
    order.refresh_from_db()
    assert order.status == source
    assert OrderEvent.objects.filter(order=order).count() == events_before


# --- forbidden use cases: the Conflict a user sees ---------------------------------------------
@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED, S.CLOSED, S.CANCELLED])
def test_cancelling_a_finished_order_is_refused(world, status):
    order = reach(world, status)
    with pytest.raises(Conflict) as caught:
        services.cancel_order(order=order, reason="too late")
    assert "cannot be cancelled" in caught.value.message
    order.refresh_from_db()
    assert order.status == status


def test_shipping_more_than_allocated_is_refused_and_ships_nothing(world):
    order = placed(world, quantity=3, stock=2)
    line = first_line(order)
    with pytest.raises(Conflict) as caught:
        services.ship_order(order=order, quantities={line.pk: 3})
    assert caught.value.message == "Cannot ship 3 of line 1: only 2 allocated."
    assert caught.value.field == f"lines.{line.pk}"
    line.refresh_from_db()
    assert line.quantity_shipped == 0
    assert StockLevel.objects.get(product=world.product).on_hand == 2
    assert_stock_invariants()


@pytest.mark.parametrize("status", [S.CONFIRMED, S.ALLOCATED, S.PICKING, S.PARTIALLY_SHIPPED, S.ON_HOLD])
def test_delivering_an_unshipped_order_is_refused(world, status):
    order = reach(world, status)
    with pytest.raises(Conflict) as caught:
        services.mark_delivered(order=order)
    assert "cannot become Delivered" in caught.value.message


@pytest.mark.parametrize("status", [S.DRAFT, S.CONFIRMED, S.BACKORDERED, S.ON_HOLD, S.SHIPPED, S.CANCELLED])
def test_shipping_an_order_that_is_not_allocated_is_refused(world, status):
    order = reach(world, status)
    with pytest.raises(Conflict) as caught:
        services.ship_order(order=order)
    assert "cannot be shipped" in caught.value.message


@pytest.mark.parametrize("status", [S.ALLOCATED, S.SHIPPED])
def test_closing_an_undelivered_order_is_refused(world, status):
    order = reach(world, status)

    with pytest.raises(Conflict) as caught:
        services.close_order(order=order)

    assert "cannot become Closed" in caught.value.message
    order.refresh_from_db()
    assert order.status == status


@pytest.mark.parametrize("status", [S.PICKING, S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED])
def test_modifying_an_order_past_allocation_is_refused(world, status):
    order = reach(world, status)
    with pytest.raises(Conflict) as caught:
        services.modify_order(order=order, lines=[services.LineInput(sku=world.product.sku, quantity=1)])
    assert "can no longer be changed" in caught.value.message
    assert_stock_invariants()


@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED, S.CLOSED, S.CANCELLED, S.ON_HOLD])
def test_holding_an_order_that_cannot_wait_is_refused(world, status):
    order = reach(world, status)
    with pytest.raises(Conflict) as caught:
        services.hold_order(order=order, reason="check")
    assert "cannot be put on hold" in caught.value.message


def test_releasing_an_order_that_is_not_on_hold_is_refused(world):
    with pytest.raises(Conflict) as caught:
        services.release_hold(order=reach(world, S.ALLOCATED))
    assert caught.value.message == "The order is not on hold."


@pytest.mark.parametrize("status", [S.ON_HOLD, S.SHIPPED, S.CANCELLED, S.DRAFT])
def test_allocating_an_order_that_is_not_waiting_for_stock_is_refused(world, status):
    with pytest.raises(Conflict):
        services.allocate_order(order=reach(world, status))


def test_starting_to_pick_a_backordered_order_is_refused(world):
    with pytest.raises(Conflict):
        services.start_picking(order=reach(world, S.BACKORDERED))


@pytest.mark.parametrize("service", [services.cancel_order, services.hold_order])
def test_cancel_and_hold_need_a_reason(world, service):
    order = reach(world, S.ALLOCATED)
    with pytest.raises(ValidationFailed) as caught:
        service(order=order, reason=" ")
    assert caught.value.field == "reason"
