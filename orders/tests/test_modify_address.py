"""Changing the ship-to address of a nearest-warehouse order re-reserves from the new nearest one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services
from orders.checks import assert_stock_invariants
from orders.models import Allocation
from orders.statuses import AllocationStrategy
from orders.tests.factories import ChannelFactory, place

pytestmark = pytest.mark.django_db


def test_new_address_moves_the_reservation_to_the_nearest_warehouse():
    # given stock in Shanghai and Beijing and a nearest-warehouse channel, an order shipping to Shanghai
    shanghai = WarehouseFactory(code="SHA", latitude=Decimal("31.23"), longitude=Decimal("121.47"), priority=10)
    beijing = WarehouseFactory(code="PEK", latitude=Decimal("39.90"), longitude=Decimal("116.40"), priority=20)
    product = ProductFactory()
    give_stock(product, shanghai, 5)
    give_stock(product, beijing, 5)
    ChannelFactory(code="web", allocation_strategy=AllocationStrategy.NEAREST)
    order = place((product.sku, 2)).order
    assert list(Allocation.objects.filter(line__order=order).values_list("warehouse__code", flat=True)) == ["SHA"]

    # when the customer moves the delivery to Beijing
    services.modify_order(
        order=order,
        ship_to=services.AddressInput(line1="1 Chang'an Ave", city="Beijing", country="CN", lat=39.91, lon=116.39),
    )

    # then the units are reserved in Beijing and Shanghai's are free again
    allocations = Allocation.objects.filter(line__order=order, quantity__gt=0)
    assert list(allocations.values_list("warehouse__code", "quantity")) == [("PEK", 2)]
    assert StockLevel.objects.get(product=product, warehouse=shanghai).reserved == 0
    assert StockLevel.objects.get(product=product, warehouse=beijing).reserved == 2
    assert_stock_invariants()


def test_new_address_on_a_priority_order_keeps_its_reservation():
    # given a priority-strategy order
    warehouse = WarehouseFactory()
    product = ProductFactory()
    give_stock(product, warehouse, 5)
    order = place((product.sku, 2)).order
    allocation_ids = list(Allocation.objects.filter(line__order=order).values_list("id", flat=True))

    # when only the address changes
    services.modify_order(order=order, ship_to=services.AddressInput(line1="2 Main St", city="Hangzhou"))

    # then the same allocation rows stand
    assert list(Allocation.objects.filter(line__order=order).values_list("id", flat=True)) == allocation_ids
    order.refresh_from_db()
    assert order.ship_to.city == "Hangzhou"
