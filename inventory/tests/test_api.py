"""REST API for products, warehouses, stock levels and stock adjustments."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from inventory import services
from inventory.models import Product, StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock

PRODUCTS = "/api/v1/products/"
STOCK = "/api/v1/stock/"
ADJUSTMENTS = "/api/v1/stock/adjustments/"


def post_json(client: APIClient, path: str, body, method: str = "post", **headers):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def shelf(db):
    """SKU-0001 with 10 on hand in WH1, 4 of them reserved (inventory knows no orders)."""
    warehouse = WarehouseFactory(code="WH1", name="Shanghai", priority=1)
    product = ProductFactory(sku="SKU-0001", name="Blue mug")
    give_stock(product, warehouse, 10)
    services.stock_reserve(lines=[services.StockLine(product.pk, warehouse.pk, 4)])
    return {"warehouse": warehouse, "product": product}


def level(shelf) -> StockLevel:
    return StockLevel.objects.get(product=shelf["product"], warehouse=shelf["warehouse"])


# --- token auth -------------------------------------------------------------------------------
def test_a_token_from_drf_create_token_authenticates(make_user, shelf):
    user = make_user("Analyst")
    out = StringIO()

    call_command("drf_create_token", user.username, stdout=out)

    match = re.search(r"Generated token (\w+) for user " + re.escape(user.username), out.getvalue())
    assert match, out.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {match.group(1)}")
    assert client.get(PRODUCTS).status_code == 200


# --- products ---------------------------------------------------------------------------------
def test_products_list_filters_by_sku_active_and_search(api_client, shelf):
    ProductFactory(sku="SKU-0002", name="Red mug", active=False)
    ProductFactory(sku="SKU-0003", name="Teapot")
    client = api_client("Analyst")

    def skus(query: str) -> list[str]:
        response = client.get(f"{PRODUCTS}?{query}")
        assert response.status_code == 200, response.content
        return [row["sku"] for row in response.json()["results"]]

    assert skus("") == ["SKU-0001", "SKU-0002", "SKU-0003"]
    assert skus("sku=SKU-0003") == ["SKU-0003"]
    assert skus("active=false") == ["SKU-0002"]
    assert skus("search=MUG") == ["SKU-0001", "SKU-0002"]
    assert skus("search=teap&active=true") == ["SKU-0003"]


def test_product_detail_has_the_contract_fields(api_client, shelf):
    response = api_client("Analyst").get(f"{PRODUCTS}{shelf['product'].pk}/")

    assert response.status_code == 200
    body = response.json()
    assert {"id", "sku", "name", "gtin", "active", "list_price"} <= set(body)
    assert body["sku"] == "SKU-0001" and body["active"] is True


def test_create_and_update_a_product(api_client, db):
    client = api_client("Warehouse")

    created = post_json(client, PRODUCTS, {"sku": "NEW-1", "name": "Kettle", "gtin": "4006381333931",
                                           "list_price": "88.00"})
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    updated = post_json(client, f"{PRODUCTS}{product_id}/", {"name": "Steel kettle", "active": False}, "patch")

    assert updated.status_code == 200, updated.content
    product = Product.objects.get(pk=product_id)
    assert (product.name, product.active, product.list_price) == ("Steel kettle", False, Decimal("88.00"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "SKU-0001", "name": "Duplicate"}, "sku"),
        ({"sku": "", "name": "No SKU"}, "sku"),
        ({"name": "No SKU"}, "sku"),
        ({"sku": 12, "name": "Numeric SKU"}, "sku"),
        ({"sku": "X-1"}, "name"),
        ({"sku": "X-1", "name": "Bad GTIN", "gtin": "4006381333932"}, "gtin"),
        ({"sku": "X-1", "name": "Short GTIN", "gtin": "123"}, "gtin"),
        ({"sku": "X-1", "name": "Negative", "list_price": "-1.00"}, "list_price"),
        ({"sku": "X-1", "name": "Text price", "list_price": "cheap"}, "list_price"),
        ({"sku": "X-1", "name": "Odd flag", "active": "maybe"}, "active"),
        ({"sku": "X-1", "name": "Odd unit", "unit": "parsec"}, "unit"),
    ],
)
def test_bad_product_input_is_400_naming_the_field(api_client, shelf, body, field):
    before = Product.objects.count()

    response = post_json(api_client("Warehouse"), PRODUCTS, body)

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert Product.objects.count() == before


def test_product_with_a_duplicate_gtin_is_400(api_client, db):
    ProductFactory(sku="A", gtin="4006381333931")

    response = post_json(api_client("Warehouse"), PRODUCTS, {"sku": "B", "name": "Twin", "gtin": "4006381333931"})

    assert response.status_code == 400 and response.json()["field"] == "gtin"


@pytest.mark.parametrize("role", ["Analyst", "Operations", "Purchasing"])
def test_read_only_roles_cannot_create_products(api_client, db, role):
    response = post_json(api_client(role), PRODUCTS, {"sku": "NEW-1", "name": "Kettle"})

    assert response.status_code == 403
    assert not Product.objects.filter(sku="NEW-1").exists()


def test_products_list_uses_the_same_number_of_queries_for_5_and_50_rows(api_client, db, django_assert_num_queries):
    client = api_client("Analyst")
    client.get(PRODUCTS)
    ProductFactory.create_batch(5)
    with django_assert_num_queries(4):
        assert len(client.get(f"{PRODUCTS}?page_size=50").json()["results"]) == 5
    ProductFactory.create_batch(45)
    with django_assert_num_queries(4):
        assert len(client.get(f"{PRODUCTS}?page_size=50").json()["results"]) == 50


# --- warehouses -------------------------------------------------------------------------------
def test_warehouses_list_and_detail(api_client, shelf):
    WarehouseFactory(code="WH2", name="Beijing", priority=2)
    client = api_client("Analyst")

    rows = client.get("/api/v1/warehouses/").json()["results"]
    detail = client.get(f"/api/v1/warehouses/{shelf['warehouse'].pk}/").json()
    only = client.get("/api/v1/warehouses/?code=WH2").json()["results"]

    assert [row["code"] for row in rows] == ["WH1", "WH2"]
    assert (detail["code"], detail["name"]) == ("WH1", "Shanghai")
    assert [row["code"] for row in only] == ["WH2"]


def test_warehouses_are_read_only(api_client, db):
    response = post_json(api_client("Warehouse"), "/api/v1/warehouses/", {"code": "X", "name": "X"})

    assert response.status_code == 405


# --- stock levels -----------------------------------------------------------------------------
def test_stock_levels_show_on_hand_reserved_available_and_filter(api_client, shelf):
    other = WarehouseFactory(code="WH2", priority=2)
    give_stock(ProductFactory(sku="SKU-0002"), other, 3)
    client = api_client("Analyst")

    everything = client.get(STOCK).json()["results"]
    one = client.get(f"{STOCK}?sku=SKU-0001&warehouse=WH1").json()["results"]
    by_warehouse = client.get(f"{STOCK}?warehouse=WH2").json()["results"]

    assert len(everything) == 2
    assert one == [{"sku": "SKU-0001", "warehouse": "WH1", "on_hand": 10, "reserved": 4, "available": 6,
                    "updated_at": one[0]["updated_at"]}]
    assert [(row["sku"], row["warehouse"]) for row in by_warehouse] == [("SKU-0002", "WH2")]


def test_stock_list_uses_the_same_number_of_queries_for_5_and_50_rows(api_client, db, django_assert_num_queries):
    warehouse = WarehouseFactory(code="WH1")
    client = api_client("Analyst")
    client.get(STOCK)

    for product in ProductFactory.create_batch(5):
        give_stock(product, warehouse, 1)
    with django_assert_num_queries(4):
        assert len(client.get(f"{STOCK}?page_size=50").json()["results"]) == 5
    for product in ProductFactory.create_batch(45):
        give_stock(product, warehouse, 1)
    with django_assert_num_queries(4):
        assert len(client.get(f"{STOCK}?page_size=50").json()["results"]) == 50


# --- stock adjustments ------------------------------------------------------------------------
def test_adjustment_posts_a_ledger_movement_and_returns_the_new_level(api_client, shelf):
    client = api_client("Warehouse")

    response = post_json(client, ADJUSTMENTS, {"sku": "SKU-0001", "warehouse": "WH1", "quantity": -3,
                                              "reason": "broken in aisle 4"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["movement"]["kind"] == "adjustment"
    assert (body["movement"]["quantity"], body["movement"]["balance_after"]) == (-3, 7)
    assert body["movement"]["reason"] == "broken in aisle 4"
    assert body["level"] == {**body["level"], "sku": "SKU-0001", "warehouse": "WH1", "on_hand": 7,
                             "reserved": 4, "available": 3}
    movement = StockMovement.objects.get(pk=body["movement"]["id"])
    assert movement.user == client.user
    assert level(shelf).on_hand == 7


@pytest.mark.parametrize("quantity", [-7, -11])
def test_adjustment_below_reserved_or_zero_is_409_and_writes_nothing(api_client, shelf, quantity):
    movements = StockMovement.objects.count()

    response = post_json(api_client("Warehouse"), ADJUSTMENTS,
                         {"sku": "SKU-0001", "warehouse": "WH1", "quantity": quantity, "reason": "shrinkage"})

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "insufficient_stock"
    assert StockMovement.objects.count() == movements
    assert (level(shelf).on_hand, level(shelf).reserved) == (10, 4)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sku": "NOPE"}, "sku"),
        ({"sku": None}, "sku"),
        ({"warehouse": "NOWHERE"}, "warehouse"),
        ({"warehouse": 1}, "warehouse"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": "5"}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 10**30}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": None}, "reason"),
    ],
)
def test_bad_adjustment_is_400_naming_the_field_and_writes_nothing(api_client, shelf, changes, field):
    body = {"sku": "SKU-0001", "warehouse": "WH1", "quantity": 5, "reason": "found in returns"}
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    movements = StockMovement.objects.count()

    response = post_json(api_client("Warehouse"), ADJUSTMENTS, body)

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert StockMovement.objects.count() == movements
    assert level(shelf).on_hand == 10


def test_malformed_adjustment_json_is_400(api_client, shelf):
    response = api_client("Warehouse").post(ADJUSTMENTS, data="{'sku': ", content_type="application/json")

    assert response.status_code == 400 and response.json()["field"] == "body"


@pytest.mark.parametrize("role", ["Analyst", "Operations", "Purchasing"])
def test_roles_without_stock_rights_cannot_adjust(api_client, shelf, role):
    response = post_json(api_client(role), ADJUSTMENTS,
                         {"sku": "SKU-0001", "warehouse": "WH1", "quantity": 5, "reason": "found"})

    assert response.status_code == 403
    assert level(shelf).on_hand == 10


def test_adjustment_with_an_idempotency_key_posts_once(api_client, shelf):
    client = api_client("Warehouse")
    body = {"sku": "SKU-0001", "warehouse": "WH1", "quantity": 2, "reason": "found"}

    first = post_json(client, ADJUSTMENTS, body, **{"Idempotency-Key": "adj-1"})
    second = post_json(client, ADJUSTMENTS, body, **{"Idempotency-Key": "adj-1"})
    other = post_json(client, ADJUSTMENTS, {**body, "quantity": 3}, **{"Idempotency-Key": "adj-1"})

    assert first.status_code == 201 and second.status_code == 201
    assert second.content == first.content
    assert other.status_code == 422
    assert level(shelf).on_hand == 12
