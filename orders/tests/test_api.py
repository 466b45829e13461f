"""REST API for orders and customers: create, list with filters, detail, cancel, permissions."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import OutboxMessage
from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders.models import Address, Customer, OrderEvent, OrderLine, SalesOrder
from orders.tests.factories import ChannelFactory, api_order_body, place

ORDERS = "/api/v1/orders/"


@pytest.fixture
def stock(db):
    """Channel `web`, SKU-0001 (list price 25.00) with 10 units and SKU-0002 with 1 unit in WH1."""
    ChannelFactory(code="web")
    warehouse = WarehouseFactory(code="WH1", priority=1)
    first = ProductFactory(sku="SKU-0001", list_price=Decimal("25.00"))
    second = ProductFactory(sku="SKU-0002", list_price=Decimal("5.00"))
    give_stock(first, warehouse, 10)
    give_stock(second, warehouse, 1)
    return {"warehouse": warehouse, "first": first, "second": second}


def order_body(**overrides):
    return api_order_body(**{"external_ref": "W-1001", **overrides})


def post_json(client: APIClient, path: str, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def reserved(product) -> int:
    return sum(StockLevel.objects.filter(product=product).values_list("reserved", flat=True))


def database_state() -> tuple:
    """Everything an order request could write: compare before and after a refused request."""
    return (
        SalesOrder.objects.count(), OrderLine.objects.count(), Customer.objects.count(),
        Address.objects.count(), OrderEvent.objects.count(), OutboxMessage.objects.count(),
        sorted(StockLevel.objects.values_list("id", "on_hand", "reserved")),
    )


@pytest.fixture
def nothing_written(stock):
    """Call it after the request: True when no row changed since the test's setup."""
    before = database_state()
    return lambda: database_state() == before


# --- create -----------------------------------------------------------------------------------
def test_create_order_returns_201_with_the_contract_fields(api_client, stock):
    client = api_client("Operations")

    response = post_json(client, ORDERS, order_body())

    assert response.status_code == 201, response.content
    body = response.json()
    order = SalesOrder.objects.get()
    assert body["id"] == order.pk
    assert body["number"] == order.number and body["number"].startswith("SO-")
    assert body["channel"] == "web"
    assert body["external_ref"] == "W-1001"
    assert body["status"] == "allocated"
    assert body["currency"] == "CNY"
    assert body["total"] == "39.80"
    assert body["promised_date"] == order.promised_date.isoformat()
    assert body["tracking_url"] == f"http://testserver/track/{order.tracking_token}/"
    assert body["customer"]["email"] == "ada@example.com"
    assert body["ship_to"]["city"] == "Shanghai" and body["ship_to"]["lat"] == pytest.approx(31.23)
    assert body["lines"] == [
        {"line_no": 1, "sku": "SKU-0001", "quantity": 2, "unit_price": "19.90", "allocated": 2,
         "backordered": 0, "shipped": 0, "cancelled": 0}
    ]
    assert reserved(stock["first"]) == 2


def test_create_response_matches_the_detail_view(api_client, stock):
    client = api_client("Operations")

    created = post_json(client, ORDERS, order_body()).json()
    detail = client.get(f"{ORDERS}{created['id']}/").json()

    assert created == detail


def test_line_without_unit_price_takes_list_price_and_backorders_the_rest(api_client, stock):
    client = api_client("Operations")
    body = order_body(lines=[{"sku": "SKU-0002", "quantity": 3}], external_ref="")

    response = post_json(client, ORDERS, body)

    assert response.status_code == 201, response.content
    line = response.json()["lines"][0]
    assert line["unit_price"] == "5.00"
    assert (line["allocated"], line["backordered"]) == (1, 2)
    assert response.json()["status"] == "partially_allocated"


def test_same_external_ref_without_key_returns_the_existing_order_with_200(api_client, stock):
    client = api_client("Operations")
    first = post_json(client, ORDERS, order_body())

    retry = post_json(client, ORDERS, order_body())

    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert SalesOrder.objects.count() == 1
    assert reserved(stock["first"]) == 2


def test_no_backorder_and_short_stock_is_409_naming_the_sku_and_reserves_nothing(api_client, stock, nothing_written):
    client = api_client("Operations")
    body = order_body(
        allow_backorder=False,
        lines=[{"sku": "SKU-0001", "quantity": 1}, {"sku": "SKU-0002", "quantity": 5}],
    )

    response = post_json(client, ORDERS, body)

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert [short["sku"] for short in response.json()["details"]["short"]] == ["SKU-0002"]
    assert nothing_written()


HUGE = 10**30
BAD_INPUT = [
    ("unknown sku", {"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
    ("quantity zero", {"lines": [{"sku": "SKU-0001", "quantity": 0}]}, "lines[0].quantity"),
    ("quantity negative", {"lines": [{"sku": "SKU-0001", "quantity": -3}]}, "lines[0].quantity"),
    ("quantity huge", {"lines": [{"sku": "SKU-0001", "quantity": HUGE}]}, "lines[0].quantity"),
    ("quantity over the limit", {"lines": [{"sku": "SKU-0001", "quantity": 100_001}]}, "lines[0].quantity"),
    ("quantity text", {"lines": [{"sku": "SKU-0001", "quantity": "abc"}]}, "lines[0].quantity"),
    ("quantity numeric text", {"lines": [{"sku": "SKU-0001", "quantity": "2"}]}, "lines[0].quantity"),
    ("quantity fraction", {"lines": [{"sku": "SKU-0001", "quantity": 1.5}]}, "lines[0].quantity"),
    ("quantity boolean", {"lines": [{"sku": "SKU-0001", "quantity": True}]}, "lines[0].quantity"),
    ("quantity null", {"lines": [{"sku": "SKU-0001", "quantity": None}]}, "lines[0].quantity"),
    ("quantity missing", {"lines": [{"sku": "SKU-0001"}]}, "lines[0].quantity"),
    ("second line bad", {"lines": [{"sku": "SKU-0001", "quantity": 1}, {"sku": "SKU-0002", "quantity": -1}]},
     "lines[1].quantity"),
    ("sku number", {"lines": [{"sku": 1, "quantity": 1}]}, "lines[0].sku"),
    ("unit price text", {"lines": [{"sku": "SKU-0001", "quantity": 1, "unit_price": "abc"}]}, "lines[0].unit_price"),
    ("unit price negative", {"lines": [{"sku": "SKU-0001", "quantity": 1, "unit_price": "-1.00"}]},
     "lines[0].unit_price"),
    ("unit price three decimals", {"lines": [{"sku": "SKU-0001", "quantity": 1, "unit_price": "1.999"}]},
     "lines[0].unit_price"),
    ("unit price boolean", {"lines": [{"sku": "SKU-0001", "quantity": 1, "unit_price": True}]}, "lines[0].unit_price"),
    ("lines missing", {"lines": None}, "lines"),
    ("lines empty", {"lines": []}, "lines"),
    ("lines not a list", {"lines": "SKU-0001"}, "lines"),
    ("line not an object", {"lines": [5]}, "lines[0]"),
    ("channel unknown", {"channel": "nope"}, "channel"),
    ("channel number", {"channel": 5}, "channel"),
    ("channel missing", {"channel": None}, "channel"),
    ("customer missing", {"customer": None}, "customer"),
    ("customer not an object", {"customer": "Ada"}, "customer"),
    ("customer email bad", {"customer": {"name": "Ada", "email": "not-an-email"}}, "customer.email"),
    ("customer name missing", {"customer": {"email": "ada@example.com"}}, "customer.name"),
    ("ship_to missing", {"ship_to": None}, "ship_to"),
    ("ship_to city missing", {"ship_to": {"line1": "1 Main St"}}, "ship_to.city"),
    ("latitude out of range", {"ship_to": {"line1": "1 Main St", "city": "X", "lat": 200}}, "ship_to.lat"),
    ("latitude text", {"ship_to": {"line1": "1 Main St", "city": "X", "lat": "north"}}, "ship_to.lat"),
    ("country three letters", {"ship_to": {"line1": "1 Main St", "city": "X", "country": "CHN"}}, "ship_to.country"),
    ("allow_backorder text", {"allow_backorder": "yes"}, "allow_backorder"),
    ("currency bad", {"currency": "EURO"}, "currency"),
    ("external_ref too long", {"external_ref": "x" * 101}, "external_ref"),
    ("external_ref number", {"external_ref": 1001}, "external_ref"),
]


@pytest.mark.parametrize(("overrides", "field"), [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api_client, stock, nothing_written, overrides, field):
    client = api_client("Operations")
    body = order_body()
    for key, value in overrides.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value

    response = post_json(client, ORDERS, body)

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field, response.json()
    assert response.json()["detail"]
    assert nothing_written()


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ('{"channel": "web", "lines": [', "application/json"),
        ("not json at all", "application/json"),
        ('{"channel": "web", "lines": [{"sku": "SKU-0001", "quantity": ' + "9" * 5000 + "}]}", "application/json"),
        ('["a", "list"]', "application/json"),
        ("42", "application/json"),
        ("", "application/json"),
    ],
    ids=["truncated", "not json", "5000-digit number", "array", "number", "empty"],
)
def test_malformed_json_is_400_and_writes_nothing(api_client, stock, nothing_written, raw, content_type):
    client = api_client("Operations")

    response = client.post(ORDERS, data=raw, content_type=content_type)

    assert response.status_code == 400, response.content
    assert response.json()["field"] in {"body", "channel"}
    assert nothing_written()


def test_form_encoded_body_is_refused(api_client, stock, nothing_written):
    client = api_client("Operations")

    response = client.post(ORDERS, data={"channel": "web"}, format="multipart")

    assert response.status_code == 415
    assert nothing_written()


# --- reads ------------------------------------------------------------------------------------
def test_list_filters_by_channel_external_ref_status_sku_and_created_dates(api_client, stock):
    ChannelFactory(code="store")
    web = place(("SKU-0001", 1), external_ref="W-1").order
    store = place(("SKU-0002", 5), channel="store", external_ref="S-1").order  # partially allocated
    old = place(("SKU-0001", 1), external_ref="W-OLD").order
    SalesOrder.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client = api_client("Analyst")

    def ids(query: str) -> set[int]:
        response = client.get(f"{ORDERS}?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {web.pk, store.pk, old.pk}
    assert ids("channel=store") == {store.pk}
    assert ids("external_ref=W-1") == {web.pk}
    assert ids("status=partially_allocated") == {store.pk}
    assert ids("status=allocated&status=partially_allocated") == {web.pk, store.pk, old.pk}
    assert ids("sku=SKU-0002") == {store.pk}
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert ids(f"created_after={since}") == {web.pk, store.pk}
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert ids(f"created_before={until}") == {old.pk}
    assert ids(f"created_before={timezone.localdate().isoformat()}") == {web.pk, store.pk, old.pk}
    moment = (timezone.now() - timedelta(days=20)).isoformat()
    assert ids(f"created_after={quote(moment)}") == {web.pk, store.pk}
    assert ids(f"created_before={quote(moment)}") == {old.pk}


def test_list_with_a_bad_filter_value_is_400_naming_it(api_client, stock):
    client = api_client("Analyst")

    for query, field in [("status=lost", "status"), ("created_after=yesterday", "created_after"),
                         ("created_before=2026-02-30", "created_before"), ("page=abc", "page")]:
        response = client.get(f"{ORDERS}?{query}")
        assert response.status_code == 400, (query, response.content)
        assert response.json()["field"] == field


def test_list_is_paginated_without_a_count(api_client, stock):
    for number in range(3):
        place(("SKU-0001", 1), external_ref=f"W-{number}")
    client = api_client("Analyst")

    first = client.get(f"{ORDERS}?page_size=2").json()
    second = client.get(first["next"]).json()

    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == 2 and first["previous"] is None
    assert len(second["results"]) == 1 and second["next"] is None


def test_detail_of_a_missing_or_absurd_id_is_404(api_client, stock):
    client = api_client("Analyst")

    assert client.get(f"{ORDERS}999999/").status_code == 404
    assert client.get(f"{ORDERS}99999999999999999999999/").status_code == 404
    assert client.get(f"{ORDERS}abc/").status_code == 404


def test_orders_list_uses_the_same_number_of_queries_for_5_and_50_orders(
    api_client, stock, django_assert_num_queries
):
    give_stock(stock["second"], stock["warehouse"], 200)
    client = api_client("Analyst")
    client.get(ORDERS)  # warm the content-type and permission caches

    def create(count: int) -> None:
        for _number in range(count):
            place(("SKU-0001", 1), ("SKU-0002", 2))

    # token + user, permissions (user, groups), orders page, lines with products
    create(5)
    with django_assert_num_queries(5):
        response = client.get(f"{ORDERS}?page_size=50")
    assert len(response.json()["results"]) == 5
    create(45)
    with django_assert_num_queries(5):
        response = client.get(f"{ORDERS}?page_size=50")
    assert len(response.json()["results"]) == 50
    assert all(len(row["lines"]) == 2 for row in response.json()["results"])


# --- cancel -----------------------------------------------------------------------------------
def test_cancel_releases_reserved_stock(api_client, stock):
    client = api_client("Operations")
    created = post_json(client, ORDERS, order_body()).json()
    assert reserved(stock["first"]) == 2

    response = post_json(client, f"{ORDERS}{created['id']}/cancel/", {"reason": "customer changed mind"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["lines"][0]["cancelled"] == 2
    assert reserved(stock["first"]) == 0
    assert SalesOrder.objects.get().cancel_reason == "customer changed mind"


def test_cancel_without_a_body_uses_a_default_reason(api_client, stock):
    client = api_client("Operations")
    order = place(("SKU-0001", 3)).order

    response = client.post(f"{ORDERS}{order.pk}/cancel/")

    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.status == "cancelled" and order.cancel_reason


def test_cancelling_twice_is_409_and_a_missing_order_404(api_client, stock):
    client = api_client("Operations")
    order = place(("SKU-0001", 3)).order
    assert client.post(f"{ORDERS}{order.pk}/cancel/").status_code == 200

    again = client.post(f"{ORDERS}{order.pk}/cancel/")
    missing = client.post(f"{ORDERS}999999/cancel/")

    assert again.status_code == 409 and again.json()["field"] == "status"
    assert missing.status_code == 404


def test_cancel_with_a_bad_reason_type_is_400(api_client, stock):
    client = api_client("Operations")
    order = place(("SKU-0001", 3)).order

    response = post_json(client, f"{ORDERS}{order.pk}/cancel/", {"reason": ["no"]})

    assert response.status_code == 400 and response.json()["field"] == "reason"
    order.refresh_from_db()
    assert order.status == "allocated"


# --- permissions ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["Analyst", "Warehouse", "Purchasing"])
def test_roles_without_order_rights_cannot_create_or_cancel(api_client, stock, role):
    order = place(("SKU-0001", 1), external_ref="W-9").order
    client = api_client(role)

    create = post_json(client, ORDERS, order_body())
    cancel = client.post(f"{ORDERS}{order.pk}/cancel/")

    assert create.status_code == 403 and cancel.status_code == 403
    assert SalesOrder.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "allocated"


def test_analyst_can_read_orders(api_client, stock):
    order = place(("SKU-0001", 1)).order
    client = api_client("Analyst")

    assert client.get(ORDERS).status_code == 200
    assert client.get(f"{ORDERS}{order.pk}/").json()["number"] == order.number


def test_anonymous_and_bad_token_are_refused(stock):
    client = APIClient()
    assert client.get(ORDERS).status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(ORDERS).status_code == 401
    assert post_json(client, ORDERS, order_body()).status_code == 401
    assert not SalesOrder.objects.exists()


# --- customers --------------------------------------------------------------------------------
def test_customers_list_filter_and_detail(api_client, stock):
    place(("SKU-0001", 1), email="ada@example.com")
    place(("SKU-0001", 1), email="bob@example.com")
    client = api_client("Analyst")

    everyone = client.get("/api/v1/customers/").json()["results"]
    ada = client.get("/api/v1/customers/?email=ADA@example.com").json()["results"]
    detail = client.get(f"/api/v1/customers/{ada[0]['id']}/")

    assert {row["email"] for row in everyone} == {"ada@example.com", "bob@example.com"}
    assert [row["email"] for row in ada] == ["ada@example.com"]
    assert detail.status_code == 200 and set(detail.json()) >= {"id", "name", "email"}
