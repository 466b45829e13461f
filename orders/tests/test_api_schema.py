"""The OpenAPI schema: served at /api/schema/, and our views describe themselves without warnings."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

OUR_PATHS = [
    "/api/v1/products/", "/api/v1/products/{id}/", "/api/v1/warehouses/", "/api/v1/warehouses/{id}/",
    "/api/v1/stock/", "/api/v1/stock/adjustments/", "/api/v1/customers/", "/api/v1/customers/{id}/",
    "/api/v1/orders/", "/api/v1/orders/{id}/", "/api/v1/orders/{id}/cancel/",
]
OUR_SOURCES = ("core/serializers.py", "inventory/api.py", "inventory/serializers.py", "orders/api.py",
               "orders/serializers.py", "ProductViewSet", "WarehouseViewSet", "StockLevelViewSet", "StockAdjustmentView",
               "CustomerViewSet", "OrderViewSet")


def test_schema_is_served_and_lists_the_order_endpoints(make_user):
    client = APIClient()
    client.force_authenticate(make_user("Analyst"))

    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/orders/" in paths
    assert set(OUR_PATHS) <= set(paths)
    assert "post" in paths["/api/v1/orders/"] and "post" in paths["/api/v1/stock/adjustments/"]
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_our_views_produce_no_schema_warnings_or_errors():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()

    ours = [message for message in messages if any(source in message for source in OUR_SOURCES)]
    assert ours == []


def test_order_create_documents_the_idempotency_key_header(make_user):
    client = APIClient()
    client.force_authenticate(make_user("Analyst"))

    operation = client.get("/api/schema/?format=json").json()["paths"]["/api/v1/orders/"]["post"]

    headers = {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert {"201", "200", "400", "409", "422"} <= set(operation["responses"])
