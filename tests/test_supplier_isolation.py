"""R12: a supplier login tries every URL the project has, with another supplier's ids and every
method — it gets 403/404/405 (or the login page), never the other supplier's data or a change.

The routes are discovered from the URL configuration, so new pages and API routes are covered
without touching this test.
"""

from __future__ import annotations

import pytest

from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers import services
from suppliers.models import PurchaseOrder, PurchaseOrderEvent
from suppliers.tests.factories import SupplierFactory, offer, sent_order
from tests.url_discovery import path_for, routes

pytestmark = pytest.mark.django_db

# Routes a supplier may open (their own scope), by URL name. Anything else must refuse them.
ALLOWED_WITHOUT_IDS = {
    "core:dashboard", "favicon", "healthz", "api-schema", "api-docs", "password_change",
    "password_change_done", "logout", "login", "password_reset", "password_reset_done",
    "password_reset_complete", "suppliers:index", "suppliers:purchase_order_list",
    "purchase-order-list", "supplier-list", "api-root",
}
REFUSED = {403, 404, 405}


@pytest.fixture
def world(client, make_user):
    warehouse = WarehouseFactory(code="WH")
    mine, theirs = SupplierFactory(code="mine", name="Mine Ltd"), SupplierFactory(code="theirs", name="Theirs Secret Co")
    product = ProductFactory(sku="SHARED")
    offer(product, mine)
    offer(product, theirs)
    my_po = sent_order(mine, warehouse, (product, 5))
    their_po = sent_order(theirs, warehouse, (product, 7))
    user = make_user("Supplier")
    services.supplier_user_link(user=user, supplier=mine)
    client.force_login(user)
    return {"client": client, "my_po": my_po, "their_po": their_po, "theirs": theirs, "mine": mine}


def test_a_supplier_login_never_reaches_another_suppliers_data_on_any_route(world):
    client, their_po = world["client"], world["their_po"]
    secrets = [their_po.number, world["theirs"].name]
    before = (PurchaseOrder.objects.get(pk=their_po.pk).status, PurchaseOrderEvent.objects.filter(purchase_order=their_po).count())
    checked = 0
    problems: list[str] = []
    # Another supplier's ids: its purchase order and the supplier itself (skipping a value that
    # happens to equal one of our own ids, where a 200 would be right).
    ours = {world["my_po"].pk, world["mine"].pk}
    values = [str(pk) for pk in dict.fromkeys([their_po.pk, world["theirs"].pk]) if pk not in ours]
    for name, regex, params in routes():
        if name == "logout" or regex.startswith("accounts/reset/"):
            continue  # logout ends the session; a reset link with a made-up token is just "invalid"
        for value in values if params else values[:1]:
            path = path_for(regex, params, value)
            if path is None or path in ("/admin/login/", "/admin/logout/"):
                continue
            if path.startswith("/admin/"):
                response = client.get(path)
                if response.status_code != 302 or "/admin/login/" not in response["Location"]:
                    problems.append(f"GET {path} → {response.status_code}: the admin must send non-staff to its login")
                continue
            for method in ("get", "post", "put", "patch", "delete"):
                response = getattr(client, method)(path, **({"content_type": "application/json", "data": "{}"} if method != "get" else {}))
                checked += 1
                body = response.content.decode(errors="replace") if not response.streaming else ""
                if response.status_code >= 500:
                    problems.append(f"{method.upper()} {path} ({name}) → {response.status_code}")
                leaked = [secret for secret in secrets if secret in body]
                if leaked:
                    problems.append(f"{method.upper()} {path} ({name}) shows {leaked}")
                if params and response.status_code not in REFUSED:
                    problems.append(f"{method.upper()} {path} ({name}) with another supplier's id → {response.status_code}")
                if not params and method == "get" and name not in ALLOWED_WITHOUT_IDS and response.status_code == 200:
                    problems.append(f"GET {path} ({name}) is open to a supplier login")
    after = (PurchaseOrder.objects.get(pk=their_po.pk).status, PurchaseOrderEvent.objects.filter(purchase_order=their_po).count())

    assert checked > 100, "URL discovery found too few routes"
    assert problems == [], "\n".join(problems)
    assert after == before


def test_a_supplier_login_sees_its_own_purchase_order(world):
    # the same discovery with its own id reaches its own order (the test above is not vacuous)
    client, my_po = world["client"], world["my_po"]
    detail = [
        path_for(regex, params, str(my_po.pk))
        for name, regex, params in routes()
        if name in {"suppliers:purchase_order_detail", "purchase-order-detail"}
    ]

    responses = [client.get(path) for path in detail if path]

    assert len(responses) == 2
    assert all(response.status_code == 200 and my_po.number in response.content.decode() for response in responses)
