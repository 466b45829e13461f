"""Order numbers come from a sequence, padded to 7 digits and never truncated beyond that."""

from __future__ import annotations

import pytest
from django.db import connection

from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders.tests.factories import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def sequence_near_ten_million():
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM orders_salesorder_number_seq")
        last_value, is_called = cursor.fetchone()
        cursor.execute("SELECT setval('orders_salesorder_number_seq', 9999998)")
    yield
    with connection.cursor() as cursor:  # sequences ignore rollbacks: put it back for other tests
        cursor.execute("SELECT setval('orders_salesorder_number_seq', %s, %s)", [last_value, is_called])


def test_numbers_past_seven_digits_keep_all_their_digits(sequence_near_ten_million):
    product = ProductFactory()
    give_stock(product, WarehouseFactory(), 10)

    numbers = [place((product.sku, 1), external_ref=f"N-{i}").order.number for i in range(2)]

    assert numbers == ["SO-9999999", "SO-10000000"]


def test_numbers_are_zero_padded_to_seven_digits():
    product = ProductFactory()
    give_stock(product, WarehouseFactory(), 10)

    number = place((product.sku, 1)).order.number

    assert number.startswith("SO-") and len(number) >= 10 and number[3:].isdigit()
