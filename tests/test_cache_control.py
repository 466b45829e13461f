"""Responses with personal data are sent `Cache-Control: no-store, private` (core.cache_control)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders.tests.factories import place

pytestmark = pytest.mark.django_db

NO_STORE = "no-store, private"


def not_stored(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.fixture
def order():
    give_stock(ProductFactory(sku="CC-1"), WarehouseFactory(code="CC"), 5)
    return place(("CC-1", 1), email="private.person@example.com").order


def test_portal_pages_with_orders_and_customers_are_not_stored(client, make_user, order):
    # given a signed-in user (an administrator, to reach the admin's customer list too)
    client.force_login(make_user("Operations", is_superuser=True, is_staff=True))
    # when they open order pages, the customer look-up, the admin's customer list, the dashboard
    urls = [
        reverse("orders:order_list"),
        reverse("orders:order_detail", args=[order.pk]),
        reverse("orders:customer_lookup") + "?q=private",
        reverse("admin:orders_customer_changelist"),
        reverse("core:dashboard"),
    ]
    for url in urls:
        response = client.get(url)
        # then no browser or proxy may keep them
        assert response.status_code == 200, url
        assert not_stored(response), url


def test_api_answers_to_token_clients_are_not_stored(api_client, order):
    client = api_client("Operations")
    for url in ("/api/v1/orders/", f"/api/v1/orders/{order.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == NO_STORE, url


def test_the_public_tracking_page_is_not_stored(client, order):
    response = client.get(reverse("track", args=[order.tracking_token]))
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


def test_anonymous_pages_without_personal_data_keep_their_own_caching(client, db):
    # the health check keeps its own (never_cache) header; a public redirect gets none from us
    assert "must-revalidate" in client.get("/healthz")["Cache-Control"]
    assert not client.get("/favicon.ico").has_header("Cache-Control")
