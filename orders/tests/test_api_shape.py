"""orders.serializers.order_data (the create/cancel answer) gives exactly OrderSerializer's JSON."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services
from orders.api import order_queryset
from orders.serializers import OrderSerializer, order_data
from orders.tests.factories import ChannelFactory


def as_json(data):
    return json.loads(JSONRenderer().render(data))


@pytest.mark.django_db
@pytest.mark.parametrize("with_coordinates", [True, False])
def test_order_data_matches_the_serializer_fresh_and_reread(with_coordinates):
    ChannelFactory(code="web")
    warehouse = WarehouseFactory(code="WH1", priority=1)
    first = ProductFactory(sku="SKU-0001", list_price=Decimal("25.50"))
    ProductFactory(sku="SKU-0002", list_price=Decimal("5.00"))
    give_stock(first, warehouse, 3)
    placed = services.place_order(
        channel="web",
        external_ref="W-1",
        customer=services.CustomerInput(name="Ada Li", email="ada@example.com"),
        ship_to=services.AddressInput(
            line1="1 Road", city="Shanghai", lat=31.23 if with_coordinates else None,
            lon=121.47 if with_coordinates else None,
        ),
        lines=[services.LineInput(sku="SKU-0001", quantity=5), services.LineInput(sku="SKU-0002", quantity=2)],
        requested_date=date(2030, 1, 2),
    )
    request = APIRequestFactory().post("/api/v1/orders/")
    order = placed.order
    order.api_lines = placed.lines
    expected = as_json(OrderSerializer(order, context={"request": request}).data)
    assert as_json(order_data(order, request=request)) == expected
    assert expected["lines"][0]["backordered"] == 2  # the case is not trivial

    reread = order_queryset().get(pk=order.pk)
    assert as_json(order_data(reread, request=request)) == as_json(
        OrderSerializer(reread, context={"request": request}).data
    )
    assert as_json(order_data(reread)) == as_json(OrderSerializer(reread).data)
