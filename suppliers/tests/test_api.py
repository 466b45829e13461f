"""/api/v1/suppliers/ and /api/v1/purchase-orders/: scoping, actions, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers import services
from suppliers.models import PurchaseOrder
from suppliers.statuses import PurchaseOrderStatus
from suppliers.tests.factories import SupplierFactory, offer, sent_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    warehouse = WarehouseFactory(code="API-WH")
    mine, theirs = SupplierFactory(code="mine"), SupplierFactory(code="theirs")
    product = ProductFactory(sku="API-1")
    offer(product, mine, cost="3.00")
    offer(product, theirs)
    return {"warehouse": warehouse, "mine": mine, "theirs": theirs, "product": product,
            "my_po": sent_order(mine, warehouse, (product, 5)), "their_po": sent_order(theirs, warehouse, (product, 7))}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def supplier_api(make_user, world):
    user = make_user("Supplier")
    services.supplier_user_link(user=user, supplier=world["mine"])
    return api(user)


def test_supplier_user_lists_only_own_purchase_orders_and_supplier(supplier_api, world):
    orders = supplier_api.get("/api/v1/purchase-orders/").json()
    suppliers = supplier_api.get("/api/v1/suppliers/").json()

    assert [o["number"] for o in orders["results"]] == [world["my_po"].number]
    assert [s["code"] for s in suppliers["results"]] == ["mine"]
    assert supplier_api.get("/api/v1/purchase-orders/", {"supplier": "theirs"}).json()["results"] == []


def test_supplier_user_gets_404_on_another_suppliers_objects(supplier_api, world):
    other = world["their_po"]

    assert supplier_api.get(f"/api/v1/purchase-orders/{other.pk}/").status_code == 404
    assert supplier_api.post(f"/api/v1/purchase-orders/{other.pk}/acknowledge/", {}, format="json").status_code == 404
    assert supplier_api.get(f"/api/v1/suppliers/{world['theirs'].pk}/").status_code == 404


def test_supplier_user_may_only_acknowledge(supplier_api, world):
    po = world["my_po"]
    line = po.lines.get()
    promised = (timezone.localdate() + timedelta(days=5)).isoformat()

    assert supplier_api.post(f"/api/v1/purchase-orders/{po.pk}/receive/",
                             {"lines": [{"line_id": line.pk, "quantity": 1}]}, format="json").status_code == 403
    assert supplier_api.post(f"/api/v1/purchase-orders/{po.pk}/cancel/", {"reason": "x"},
                             format="json").status_code == 403
    assert supplier_api.post("/api/v1/suppliers/", {"code": "x", "name": "x"}, format="json").status_code == 403

    response = supplier_api.post(f"/api/v1/purchase-orders/{po.pk}/acknowledge/",
                                 {"lines": [{"line_id": line.pk, "confirmed_date": promised}]}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert response.json()["lines"][0]["confirmed_date"] == promised


def test_purchasing_creates_sends_and_receives_through_the_api(make_user, world):
    client = api(make_user("Purchasing"))

    created = client.post("/api/v1/purchase-orders/", {
        "supplier": "mine", "warehouse": "API-WH", "lines": [{"sku": "API-1", "quantity": 10}],
    }, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["total"] == "30.00"
    assert body["lines"][0]["sku"] == "API-1"

    sent = client.post(f"/api/v1/purchase-orders/{body['id']}/send/")
    assert sent.json()["status"] == "sent"
    received = client.post(f"/api/v1/purchase-orders/{body['id']}/receive/",
                           {"lines": [{"line_id": body["lines"][0]["id"], "quantity": 10}]}, format="json")
    assert received.status_code == 201
    assert received.json()["status"] == "received"
    assert StockLevel.objects.get(product=world["product"], warehouse=world["warehouse"]).on_hand == 10


def test_api_errors_name_the_field_and_write_nothing(make_user, world):
    client = api(make_user("Purchasing"))
    po = world["my_po"]
    line = po.lines.get()

    over = client.post(f"/api/v1/purchase-orders/{po.pk}/receive/",
                       {"lines": [{"line_id": line.pk, "quantity": 6}]}, format="json")
    negative = client.post(f"/api/v1/purchase-orders/{po.pk}/receive/",
                           {"lines": [{"line_id": line.pk, "quantity": -1}]}, format="json")
    unknown = client.post(f"/api/v1/purchase-orders/{po.pk}/receive/",
                          {"lines": [{"line_id": 987654, "quantity": 1}]}, format="json")
    wrong_state = client.post(f"/api/v1/purchase-orders/{po.pk}/send/")
    bad_sku = client.post("/api/v1/purchase-orders/", {
        "supplier": "mine", "warehouse": "API-WH", "lines": [{"sku": "NOPE", "quantity": 1}]}, format="json")

    assert (over.status_code, over.json()["field"]) == (400, "lines")
    assert negative.status_code == 400
    assert (unknown.status_code, unknown.json()["field"]) == (400, "lines")
    assert (wrong_state.status_code, wrong_state.json()["code"]) == (409, "conflict")
    assert (bad_sku.status_code, bad_sku.json()["field"]) == (400, "lines[0].product")
    assert not StockLevel.objects.filter(product=world["product"]).exists()
    assert PurchaseOrder.objects.filter(status=PurchaseOrderStatus.DRAFT).count() == 0
