"""Movements keyed in late carry the time they happened; the ledger order stays the posting order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from core.exceptions import ValidationFailed
from inventory import services
from inventory.models import StockMovement
from inventory.selectors import verify_ledger
from inventory.tests.factories import ProductFactory, WarehouseFactory
from orders.services import ship_order
from orders.tests.factories import place

pytestmark = pytest.mark.django_db


def test_a_backdated_receipt_keeps_its_time_and_a_valid_hash_chain():
    product, warehouse = ProductFactory(), WarehouseFactory()
    yesterday = timezone.now() - timedelta(days=1)

    movement = services.stock_receive(product=product, warehouse=warehouse, quantity=5, occurred_at=yesterday)
    services.stock_receive(product=product, warehouse=warehouse, quantity=1)

    assert StockMovement.objects.get(pk=movement.pk).created_at == yesterday
    assert verify_ledger() == []


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(lambda: timezone.now() + timedelta(days=1), id="future"),
        pytest.param(lambda: timezone.now() - timedelta(days=401), id="too-old"),
        pytest.param(lambda: datetime(2026, 1, 1, 12, 0), id="naive"),
    ],
)
def test_a_movement_time_in_the_future_too_old_or_naive_is_refused_and_nothing_written(moment):
    product, warehouse = ProductFactory(), WarehouseFactory()

    with pytest.raises(ValidationFailed) as error:
        services.stock_receive(product=product, warehouse=warehouse, quantity=5, occurred_at=moment())

    assert error.value.field == "occurred_at"
    assert not StockMovement.objects.exists()


def test_ship_order_records_when_the_shipment_left():
    product, warehouse = ProductFactory(), WarehouseFactory()
    services.stock_receive(product=product, warehouse=warehouse, quantity=5)
    order = place((product.sku, 2)).order
    left = timezone.now() - timedelta(hours=6)

    ship_order(order=order, shipped_at=left)

    shipment = StockMovement.objects.get(kind="shipment")
    assert shipment.created_at == left and shipment.quantity == -2
