"""orders.services use cases: place, modify, cancel, hold, ship — with their stock effects."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.exceptions import Conflict, InsufficientStock, ValidationFailed
from core.models import OutboxMessage
from inventory import hooks
from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services
from orders.allocation import add_business_days
from orders.checks import assert_stock_invariants
from orders.models import Address, Allocation, Customer, OrderEvent, OrderLine, SalesOrder
from orders.statuses import EventKind, OrderStatus
from orders.tests.factories import ChannelFactory, place

pytestmark = pytest.mark.django_db
S = OrderStatus


@pytest.fixture
def shanghai():
    return WarehouseFactory(code="SH", priority=1, handling_days=1)


@pytest.fixture
def beijing():
    return WarehouseFactory(
        code="BJ", priority=2, handling_days=3, city="Beijing", latitude=Decimal("39.904200"),
        longitude=Decimal("116.407400"),
    )


@pytest.fixture
def tea():
    return ProductFactory(sku="TEA", list_price=Decimal("12.50"))


@pytest.fixture
def cup():
    return ProductFactory(sku="CUP", list_price=Decimal("3.20"))


def reserved(product, warehouse) -> int:
    row = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return row.reserved if row else 0


def on_hand(product, warehouse) -> int:
    row = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return row.on_hand if row else 0


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (SalesOrder, OrderLine, Allocation, OrderEvent, Customer, Address, OutboxMessage, StockMovement)
    }


def line_of(order: SalesOrder, sku: str) -> OrderLine:
    return order.lines.get(product__sku=sku)


# --- place_order ------------------------------------------------------------------------------
def test_place_order_reserves_stock_and_records_its_history(shanghai, tea):
    # given
    give_stock(tea, shanghai, 10)
    # when
    placed = place(("TEA", 3), external_ref="W-1")
    # then
    order = placed.order
    assert placed.created
    assert order.status == S.ALLOCATED
    assert order.number.startswith("SO-")
    assert reserved(tea, shanghai) == 3
    line = line_of(order, "TEA")
    assert (line.quantity, line.quantity_allocated, line.quantity_backordered) == (3, 3, 0)
    assert list(OrderEvent.objects.filter(order=order).values_list("kind", "from_status", "to_status")) == [
        (EventKind.CREATED, "", S.DRAFT),
        (EventKind.STATUS, S.DRAFT, S.CONFIRMED),
        (EventKind.STATUS, S.CONFIRMED, S.ALLOCATED),
    ]
    assert OutboxMessage.objects.filter(task_name="orders.tasks.order_placed_task", kwargs={"order_id": order.pk}).exists()
    assert_stock_invariants()


def test_line_without_unit_price_takes_the_list_price_and_totals_add_up(shanghai, tea, cup):
    give_stock(tea, shanghai, 10)
    give_stock(cup, shanghai, 10)
    ChannelFactory(code="web")
    order = services.place_order(
        channel="web",
        customer=services.CustomerInput(name="Ada Li", email="ada@example.com"),
        ship_to=services.AddressInput(line1="1 Main St", city="Shanghai"),
        lines=[services.LineInput(sku="TEA", quantity=2), services.LineInput(sku="CUP", quantity=3, unit_price=Decimal("2.99"))],
    ).order
    assert line_of(order, "TEA").unit_price == Decimal("12.50")
    assert line_of(order, "CUP").unit_price == Decimal("2.99")
    assert order.subtotal == order.total == Decimal("33.97")
    assert order.currency == "CNY"


def test_place_order_is_idempotent_on_channel_and_external_ref(shanghai, tea):
    give_stock(tea, shanghai, 10)
    first = place(("TEA", 2), external_ref="W-1001")
    before = counts()
    # when the same order arrives again (even with other lines)
    again = place(("TEA", 5), external_ref="W-1001")
    # then the first order is returned and nothing new is written or reserved
    assert not again.created
    assert again.order.pk == first.order.pk
    assert counts() == before
    assert reserved(tea, shanghai) == 2
    # while the same reference on another channel is another order
    other = place(("TEA", 1), external_ref="W-1001", channel="store")
    assert other.created and other.order.pk != first.order.pk


def test_orders_without_external_ref_are_never_merged(shanghai, tea):
    give_stock(tea, shanghai, 10)
    assert place(("TEA", 1)).order.pk != place(("TEA", 1)).order.pk


def test_no_backorder_and_short_stock_names_the_short_skus_and_writes_nothing(shanghai, tea, cup):
    # given enough tea but only 1 cup
    give_stock(tea, shanghai, 10)
    give_stock(cup, shanghai, 1)
    before = counts()
    # when
    with pytest.raises(InsufficientStock) as caught:
        place(("TEA", 2), ("CUP", 3), allow_backorder=False, email="new@example.com", external_ref="W-9")
    # then: 409, the short SKU named, and not a single row written (not even the new customer)
    error = caught.value
    assert error.status == 409
    assert error.field == "lines"
    assert error.details == {"short": [{"sku": "CUP", "requested": 3, "available": 1}]}
    assert counts() == before
    assert reserved(tea, shanghai) == reserved(cup, shanghai) == 0
    assert_stock_invariants()


def test_backorder_allowed_reserves_what_there_is(shanghai, tea):
    give_stock(tea, shanghai, 1)
    order = place(("TEA", 3)).order
    assert order.status == S.PARTIALLY_ALLOCATED
    line = line_of(order, "TEA")
    assert (line.quantity_allocated, line.quantity_backordered) == (1, 2)
    assert reserved(tea, shanghai) == 1


def test_customers_are_matched_by_email_case_insensitively(shanghai, tea):
    give_stock(tea, shanghai, 10)
    first = place(("TEA", 1), email="Ada@Example.com").order
    second = place(("TEA", 1), email="ada@example.COM").order
    assert first.customer_id == second.customer_id
    assert Customer.objects.get().email == "ada@example.com"


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([services.LineInput(sku="NOPE", quantity=1)], "lines[0].sku"),
        ([services.LineInput(sku="TEA", quantity=1), services.LineInput(sku="TEA", quantity=0)], "lines[1].quantity"),
        ([services.LineInput(sku="TEA", quantity=-2)], "lines[0].quantity"),
        ([services.LineInput(sku="TEA", quantity=10**9)], "lines[0].quantity"),
        ([services.LineInput(sku="TEA", quantity="2")], "lines[0].quantity"),
        ([services.LineInput(sku="TEA", quantity=1.5)], "lines[0].quantity"),
        ([services.LineInput(sku="TEA", quantity=True)], "lines[0].quantity"),
        ([services.LineInput(sku="TEA", quantity=1, unit_price=Decimal("-1"))], "lines[0].unit_price"),
        ([services.LineInput(sku="TEA", quantity=1, unit_price=Decimal("1.999"))], "lines[0].unit_price"),
        ([services.LineInput(sku="TEA", quantity=1, unit_price="abc")], "lines[0].unit_price"),
        ([services.LineInput(sku="TEA", quantity=1, unit_price=Decimal("NaN"))], "lines[0].unit_price"),
        ([services.LineInput(sku=" ", quantity=1)], "lines[0].sku"),
    ],
)
def test_bad_lines_are_refused_naming_the_field(shanghai, tea, lines, field):
    ChannelFactory(code="web")
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        services.place_order(
            channel="web", customer=services.CustomerInput(name="Ada", email="ada@example.com"),
            ship_to=services.AddressInput(line1="1 Main St", city="Shanghai"), lines=lines,
        )
    assert caught.value.status == 400
    assert caught.value.field == field
    assert counts() == before


def test_an_inactive_product_cannot_be_ordered(shanghai, tea):
    tea.active = False
    tea.save()
    with pytest.raises(ValidationFailed) as caught:
        place(("TEA", 1))
    assert caught.value.field == "lines[0].sku"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"customer": services.CustomerInput(name="Ada", email="not-an-email")}, "customer.email"),
        ({"customer": services.CustomerInput(name="", email="nobody-yet@example.com")}, "customer.name"),
        ({"ship_to": services.AddressInput(line1="", city="Shanghai")}, "ship_to.line1"),
        ({"ship_to": services.AddressInput(line1="1 Main St", city="")}, "ship_to.city"),
        ({"ship_to": services.AddressInput(line1="1 Main St", city="Shanghai", country="CHN")}, "ship_to.country"),
        ({"ship_to": services.AddressInput(line1="1 Main St", city="Shanghai", lat=91.0, lon=0.0)}, "ship_to.lat"),
        ({"ship_to": services.AddressInput(line1="1 Main St", city="Shanghai", lat=0.0, lon=-181.0)}, "ship_to.lon"),
        ({"currency": "yuan"}, "currency"),
        ({"external_ref": "x" * 101}, "external_ref"),
    ],
)
def test_bad_order_headers_are_refused_naming_the_field(shanghai, tea, overrides, field):
    give_stock(tea, shanghai, 5)
    ChannelFactory(code="web")
    arguments = {
        "channel": "web",
        "customer": services.CustomerInput(name="Ada", email="ada@example.com"),
        "ship_to": services.AddressInput(line1="1 Main St", city="Shanghai"),
        "lines": [services.LineInput(sku="TEA", quantity=1)],
        **overrides,
    }
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        services.place_order(**arguments)
    assert caught.value.field == field
    assert counts() == before


def test_reservation_locks_stock_rows_before_it_writes_them(shanghai, beijing, tea, cup):
    # given stock of two products in two warehouses
    for product in (tea, cup):
        for warehouse in (shanghai, beijing):
            give_stock(product, warehouse, 5)
    # when an order names them cup first
    with CaptureQueriesContext(connection) as queries:
        place(("CUP", 1), ("TEA", 1))
    # then the stock rows were locked in (product, warehouse) order before they were written:
    # either by a SELECT … FOR UPDATE before the guarded UPDATE, or (the hot path) by the
    # locking CTE of the one statement, which runs after its INSERTs and before its check
    stock_sql = [" ".join(q["sql"].split()) for q in queries.captured_queries if "inventory_stocklevel" in q["sql"]]
    update = next(i for i, sql in enumerate(stock_sql) if sql.startswith("UPDATE") or "stock_reserved AS (" in sql)
    lock = next((i for i, sql in enumerate(stock_sql) if sql.startswith("SELECT") and "FOR UPDATE" in sql), None)
    if lock is not None:
        assert lock < update
        assert 'ORDER BY "inventory_stocklevel"."product_id" ASC, "inventory_stocklevel"."warehouse_id" ASC' in stock_sql[lock]
    else:
        statement = stock_sql[update]
        assert "ORDER BY sl.product_id, sl.warehouse_id FOR UPDATE OF sl" in statement
        assert "WHERE (SELECT count(*) FROM allocation) > 0 AND (SELECT count(*) FROM event) > 0" in statement
        assert "SELECT 'reserved', json_build_array(inventory_require_reserved(2, " in statement


# --- promised date ----------------------------------------------------------------------------
def test_in_stock_order_is_promised_after_the_slowest_warehouses_working_days(shanghai, beijing, tea):
    # given 2 units in Shanghai (1 handling day) and more in Beijing (3 handling days)
    give_stock(tea, shanghai, 2)
    give_stock(tea, beijing, 5)
    today = timezone.localdate()
    # when one order fits Shanghai and another needs both
    quick = place(("TEA", 2)).order
    split = place(("TEA", 3)).order
    # then
    assert quick.promised_date == add_business_days(today, 1)
    assert split.promised_date == add_business_days(today, 3)
    assert split.promised_date.weekday() < 5


def test_backordered_order_without_known_supply_has_no_promise(shanghai, tea, only_fillers):
    only_fillers(hooks.EXPECTED_SUPPLY_DATES)
    give_stock(tea, shanghai, 1)
    assert place(("TEA", 3)).order.promised_date is None
    assert place(("TEA", 1)).order.promised_date is None


def test_backordered_order_is_promised_from_expected_supply_plus_handling(shanghai, tea, cup, only_fillers):
    # given suppliers expect tea in 10 days (a provider registered through the inventory hook)
    today = timezone.localdate()
    expected = today + timedelta(days=10)
    asked: list[tuple[set[int], dict[int, int] | None]] = []

    def open_purchase_orders(product_ids: set[int], on: date, *, ahead=None, wanted=None) -> dict[int, date]:
        asked.append((set(product_ids), wanted))
        return {tea.pk: expected}

    only_fillers(hooks.EXPECTED_SUPPLY_DATES, open_purchase_orders)
    give_stock(cup, shanghai, 5)
    # when tea is backordered and cup is in stock
    order = place(("TEA", 2), ("CUP", 1)).order
    # then the promise is the supply date plus the handling days, and only tea was asked about,
    # for the 2 units this order waits for
    assert order.promised_date == add_business_days(expected, 1)
    assert asked == [({tea.pk}, {tea.pk: 2})]


def test_a_promise_change_is_recorded_when_stock_arrives(shanghai, tea, only_fillers):
    only_fillers(hooks.EXPECTED_SUPPLY_DATES)
    order = place(("TEA", 2)).order
    assert order.promised_date is None
    give_stock(tea, shanghai, 2)
    services.allocate_order(order=order)
    order.refresh_from_db()
    assert order.promised_date == add_business_days(timezone.localdate(), 1)
    assert OrderEvent.objects.filter(order=order, kind=EventKind.PROMISE).count() == 1


# --- modify_order -----------------------------------------------------------------------------
def test_modify_order_re_reserves_in_the_same_transaction(shanghai, tea, cup):
    # given an allocated order of 2 tea
    give_stock(tea, shanghai, 10)
    give_stock(cup, shanghai, 10)
    order = place(("TEA", 2)).order
    # when it becomes 5 tea and 1 cup
    services.modify_order(
        order=order, lines=[services.LineInput(sku="TEA", quantity=5), services.LineInput(sku="CUP", quantity=1)]
    )
    # then the reservations follow and the totals too
    order.refresh_from_db()
    assert (reserved(tea, shanghai), reserved(cup, shanghai)) == (5, 1)
    assert order.status == S.ALLOCATED
    assert order.total == Decimal("65.70")
    assert OrderEvent.objects.filter(order=order, kind=EventKind.MODIFIED).count() == 1
    assert_stock_invariants()


def test_modify_order_can_drop_a_product_and_frees_its_stock(shanghai, tea, cup):
    give_stock(tea, shanghai, 10)
    give_stock(cup, shanghai, 10)
    order = place(("TEA", 2), ("CUP", 2)).order
    services.modify_order(order=order, lines=[services.LineInput(sku="CUP", quantity=1)])
    assert (reserved(tea, shanghai), reserved(cup, shanghai)) == (0, 1)
    assert [line.product.sku for line in order.lines.all()] == ["CUP"]
    assert_stock_invariants()


def test_modify_order_without_backorders_rolls_back_fully_when_stock_is_short(shanghai, tea, cup):
    # given an order that may not be backordered, holding 2 of the 3 tea
    give_stock(tea, shanghai, 3)
    give_stock(cup, shanghai, 1)
    order = place(("TEA", 2), allow_backorder=False).order
    lines_before = list(order.lines.values_list("product__sku", "quantity", "quantity_allocated"))
    before = counts()
    # when it asks for 4 tea (only 3 exist) plus a cup
    with pytest.raises(InsufficientStock) as caught:
        services.modify_order(
            order=order, lines=[services.LineInput(sku="TEA", quantity=4), services.LineInput(sku="CUP", quantity=1)]
        )
    # then the short SKU is named and the order, its lines and the stock are exactly as before
    assert caught.value.details == {"short": [{"sku": "TEA", "requested": 4, "available": 3}]}
    assert counts() == before
    assert list(order.lines.values_list("product__sku", "quantity", "quantity_allocated")) == lines_before
    assert (reserved(tea, shanghai), reserved(cup, shanghai)) == (2, 0)
    order.refresh_from_db()
    assert order.status == S.ALLOCATED
    assert_stock_invariants()


def test_modify_order_changes_the_address(shanghai, tea):
    give_stock(tea, shanghai, 3)
    order = place(("TEA", 1)).order
    services.modify_order(
        order=order, ship_to=services.AddressInput(line1="88 Century Ave", city="Pudong", lat=31.23, lon=121.5)
    )
    order.ship_to.refresh_from_db()
    assert (order.ship_to.line1, order.ship_to.city) == ("88 Century Ave", "Pudong")
    assert reserved(tea, shanghai) == 1


# --- cancel, hold -----------------------------------------------------------------------------
def test_cancel_releases_reserved_stock(shanghai, tea):
    give_stock(tea, shanghai, 5)
    order = place(("TEA", 3)).order
    services.cancel_order(order=order, reason="customer changed mind")
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.cancel_reason == "customer changed mind"
    assert reserved(tea, shanghai) == 0
    line = line_of(order, "TEA")
    assert (line.quantity_cancelled, line.quantity_allocated, line.quantity_backordered) == (3, 0, 0)
    assert_stock_invariants()


def test_cancel_of_a_partially_shipped_order_cancels_only_the_rest(shanghai, tea):
    give_stock(tea, shanghai, 5)
    order = place(("TEA", 4)).order
    services.ship_order(order=order, quantities={line_of(order, "TEA").pk: 1})
    services.cancel_order(order=order, reason="rest no longer needed")
    line = line_of(order, "TEA")
    assert (line.quantity_shipped, line.quantity_cancelled) == (1, 3)
    assert (on_hand(tea, shanghai), reserved(tea, shanghai)) == (4, 0)
    assert_stock_invariants()


def test_hold_keeps_reservations_and_release_returns_to_the_previous_status(shanghai, tea):
    give_stock(tea, shanghai, 1)
    order = place(("TEA", 2)).order
    assert order.status == S.PARTIALLY_ALLOCATED
    services.hold_order(order=order, reason="payment check")
    order.refresh_from_db()
    assert (order.status, order.status_before_hold, order.hold_reason) == (S.ON_HOLD, S.PARTIALLY_ALLOCATED, "payment check")
    assert reserved(tea, shanghai) == 1
    services.release_hold(order=order)
    order.refresh_from_db()
    assert (order.status, order.status_before_hold, order.hold_reason) == (S.PARTIALLY_ALLOCATED, "", "")


def test_an_order_on_hold_waits_while_stock_arrives(shanghai, tea):
    order = place(("TEA", 2)).order
    services.hold_order(order=order, reason="address check")
    give_stock(tea, shanghai, 5)
    assert services.reallocate_backorders(product_ids=[tea.pk]) == 0
    order.refresh_from_db()
    assert order.status == S.ON_HOLD
    assert reserved(tea, shanghai) == 0


# --- shipping ---------------------------------------------------------------------------------
def test_partial_shipments_issue_stock_and_finish_the_order(shanghai, tea, cup):
    give_stock(tea, shanghai, 5)
    give_stock(cup, shanghai, 5)
    order = place(("TEA", 3), ("CUP", 1)).order
    tea_line = line_of(order, "TEA")
    # when 2 tea leave first
    shipped = services.ship_order(order=order, quantities={tea_line.pk: 2}, reference="PARCEL-1")
    # then
    assert shipped == {tea_line.pk: 2}
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_SHIPPED
    assert (on_hand(tea, shanghai), reserved(tea, shanghai)) == (3, 1)
    movement = StockMovement.objects.filter(kind=MovementKind.SHIPMENT).get()
    assert (movement.quantity, movement.reference) == (-2, "PARCEL-1")
    # when the rest follows
    services.ship_order(order=order)
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert (on_hand(tea, shanghai), reserved(tea, shanghai), on_hand(cup, shanghai), reserved(cup, shanghai)) == (2, 0, 4, 0)
    assert_stock_invariants()


def test_shipping_a_split_allocation_issues_from_each_warehouse(shanghai, beijing, tea):
    give_stock(tea, shanghai, 2)
    give_stock(tea, beijing, 2)
    order = place(("TEA", 3)).order
    services.ship_order(order=order)
    assert (on_hand(tea, shanghai), on_hand(tea, beijing)) == (0, 1)
    assert StockMovement.objects.filter(kind=MovementKind.SHIPMENT).count() == 2
    assert_stock_invariants()


def test_shipping_a_line_of_another_order_or_nothing_is_refused(shanghai, tea):
    give_stock(tea, shanghai, 5)
    order, other = place(("TEA", 1)).order, place(("TEA", 1)).order
    with pytest.raises(ValidationFailed):
        services.ship_order(order=order, quantities={line_of(other, "TEA").pk: 1})
    with pytest.raises(ValidationFailed):
        services.ship_order(order=order, quantities={line_of(order, "TEA").pk: 0})
    with pytest.raises(ValidationFailed):
        services.ship_order(order=order, quantities={line_of(order, "TEA").pk: -1})
    assert on_hand(tea, shanghai) == 5


def test_delivered_and_closed_finish_the_lifecycle(shanghai, tea):
    give_stock(tea, shanghai, 5)
    order = place(("TEA", 1)).order
    services.ship_order(order=order)
    services.mark_delivered(order=order)
    services.close_order(order=order)
    order.refresh_from_db()
    assert order.status == S.CLOSED
    statuses = list(OrderEvent.objects.filter(order=order, kind=EventKind.STATUS).values_list("to_status", flat=True))
    assert statuses == [S.CONFIRMED, S.ALLOCATED, S.SHIPPED, S.DELIVERED, S.CLOSED]


def test_a_missing_order_is_not_found():
    from core.exceptions import NotFound

    with pytest.raises(NotFound):
        services.cancel_order(order=999_999, reason="x")


def test_conflicts_are_409_domain_errors():
    assert Conflict("x").status == InsufficientStock("x").status == 409
