"""Purchasing's panel on the product page: forecast vs actual (chart data + the same figures as a
table), MAE/MAPE, method, mean/sigma, reorder policies per warehouse — for purchasing eyes only, in
constant queries."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import roles
from inventory.models import MovementKind, StockMovement
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from suppliers import panels
from suppliers.forecasting import forecast_vs_actual
from suppliers.statuses import PolicyMethod
from suppliers.tests.factories import ReorderPolicyFactory, SupplierFactory
from tests.browser.conftest import browser, console_messages, page  # noqa: F401 — browser fixtures

CHART_JS = "vendor/chartjs-4.6.1/chart.umd.min.js"
CHART_DATA = re.compile(r'<script id="forecast-chart-data" type="application/json">(.*?)</script>', re.S)


def ship(product, warehouse, day, quantity: int) -> None:
    """A shipment ledger row on a past day (the services stamp `now`; history needs the past)."""
    StockMovement.objects.create(
        product=product, warehouse=warehouse, kind=MovementKind.SHIPMENT, quantity=-quantity,
        balance_after=0, reference="test", created_at=timezone.make_aware(datetime.combine(day, time(12))),
        hash="test",
    )


@pytest.fixture
def selling(db):
    """SKU-F ships 3 a day from SH1 over the whole window and 2 a day more from BJ2 in the last 4 weeks."""
    shanghai = WarehouseFactory(code="SH1", priority=1)
    beijing = WarehouseFactory(code="BJ2", priority=2)
    product = ProductFactory(sku="SKU-F")
    give_stock(product, shanghai, 500)
    today = timezone.localdate()
    for offset in range(1, 90 + 28 + 1):
        ship(product, shanghai, today - timedelta(days=offset), 3)
    for offset in range(1, 29):
        ship(product, beijing, today - timedelta(days=offset), 2)
    return {"product": product, "SH1": shanghai, "BJ2": beijing}


def product_page(client, product):
    return client.get(reverse("inventory:product_detail", args=[product.pk]))


def chart_data(response) -> dict:
    match = CHART_DATA.search(response.content.decode())
    assert match, "no forecast chart data block"
    return json.loads(match.group(1))


@pytest.mark.parametrize("role", [roles.OPERATIONS, roles.WAREHOUSE, roles.PURCHASING, roles.ANALYST])
def test_roles_with_purchasing_see_the_forecast_panel_and_its_scripts(client, make_user, selling, role):
    client.force_login(make_user(role))

    response = product_page(client, selling["product"])

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="product-forecast"' in content and 'id="forecast-chart"' in content
    head = content.split("</head>")[0]
    assert head.index(CHART_JS) < head.index("js/forecast_chart.js")


def test_an_inventory_only_user_sees_the_product_without_purchasing_data(client, make_user, selling):
    # Given a user who may open inventory and its products but not the purchasing section
    user = make_user()
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label__in=["core", "inventory"],
        codename__in=["access_inventory", "view_product", "view_stockmovement", "view_stocklevel"],
    ))
    ReorderPolicyFactory(product=selling["product"], warehouse=selling["SH1"])
    client.force_login(user)

    response = product_page(client, selling["product"])

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="stock-by-warehouse"' in content
    assert 'id="product-forecast"' not in content and "forecast-chart-data" not in content
    assert CHART_JS not in content and "forecast_chart.js" not in content
    assert response.context["panels"] == []


def test_purchasing_section_without_the_policy_permission_hides_the_panel(make_user, rf):
    user = make_user(roles.WAREHOUSE)
    assert panels.may_see_purchasing_data(user)
    user = make_user()
    user.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename="access_purchasing"))

    assert not panels.may_see_purchasing_data(user)


def test_chart_data_and_table_show_actual_vs_forecast_with_mae_and_mape(client, make_user, selling):
    client.force_login(make_user(roles.PURCHASING))
    expected = forecast_vs_actual(product_id=selling["product"].pk, days=28, horizon=14)

    response = product_page(client, selling["product"])

    data = chart_data(response)
    today = timezone.localdate()
    # 28 past days, then 14 ahead (no actual yet)
    assert len(data["labels"]) == len(data["actual"]) == len(data["forecast"]) == 42
    assert data["labels"][0] == (today - timedelta(days=28)).isoformat()
    assert data["labels"][28] == today.isoformat()
    assert data["actual"][:28] == [5.0] * 28 and data["actual"][28:] == [None] * 14
    assert data["past_days"] == 28 and data["series"]["actual"] and data["y_label"]
    # The holdout was fitted on 3/day, the last four weeks sold 5/day: MAE 2, MAPE 40 %
    assert data["mae"] == pytest.approx(2.0, abs=1e-3) and data["mape"] == pytest.approx(40.0, abs=0.1)
    content = response.content.decode()
    figures = content[content.index('id="forecast-figures"'):content.index('id="forecast-table"')]
    assert "2.00" in figures and "40.0 %" in figures
    assert f'data-method="{expected.method}"' in figures and panels.method_label(expected.method) in figures
    assert f"{expected.mean:.2f}" in figures and f"{expected.sigma:.2f}" in figures
    # STYLE.md: every chart has a table — one row per chart point
    table = content[content.index('id="forecast-table"'):content.index("</details>")]
    assert table.count("<tr") == 1 + 42
    assert (today - timedelta(days=1)).strftime("%Y-%m-%d") in table


def test_a_product_without_shipments_shows_a_flat_chart_and_no_mape(client, make_user, db):
    product = ProductFactory(sku="SKU-NEW")
    client.force_login(make_user(roles.PURCHASING))

    response = product_page(client, product)

    data = chart_data(response)
    assert data["method"] == "none" and data["mape"] is None
    assert set(data["forecast"]) == {0}
    assert 'id="no-reorder-policy"' in response.content.decode()


def test_reorder_policies_per_warehouse_show_rop_safety_stock_and_min_max(client, make_user, selling):
    supplier = SupplierFactory(name="Acme Parts")
    ReorderPolicyFactory(
        product=selling["product"], warehouse=selling["BJ2"], method=PolicyMethod.REORDER_POINT,
        min_quantity=0, max_quantity=0, reorder_level=61, safety_stock=17, demand_mean=Decimal("2.0000"),
        demand_sigma=Decimal("1.2500"), lead_time_used=Decimal("14.00"), service_level=Decimal("0.975"),
        preferred_supplier=supplier,
    )
    ReorderPolicyFactory(product=selling["product"], warehouse=selling["SH1"], min_quantity=20, max_quantity=90)
    client.force_login(make_user(roles.WAREHOUSE))

    response = product_page(client, selling["product"])

    content = response.content.decode()
    table = content[content.index('id="reorder-policies"'):]
    table = table[:table.index("</table>")]
    assert table.index('data-warehouse="SH1"') < table.index('data-warehouse="BJ2"')  # warehouse priority
    rows = {row.split('"')[1]: row for row in table.split('<tr data-warehouse=')[1:]}
    assert re.search(r">20<.*>90<", rows["SH1"], re.S)
    assert '<td class="text-end fw-semibold policy-rop">61</td>' in rows["BJ2"]
    assert '<td class="text-end policy-safety">17</td>' in rows["BJ2"]
    assert "1.25" in rows["BJ2"] and "14.0" in rows["BJ2"] and "97.5 %" in rows["BJ2"]
    assert "Acme Parts" in rows["BJ2"]


def test_every_script_on_the_page_is_a_file_or_a_json_data_block(client, make_user, selling):
    # The strict CSP (script-src 'self') runs no inline code: the chart data is JSON, not script.
    client.force_login(make_user(roles.PURCHASING))

    content = product_page(client, selling["product"]).content.decode()

    tags = re.findall(r"<script\b[^>]*>", content)
    assert tags and all("src=" in tag or 'type="application/json"' in tag for tag in tags)
    assert 'style="' not in content


def test_product_page_with_the_panel_is_constant_in_queries(client, make_user, selling, django_assert_num_queries):
    # Given one policy and a short ledger page
    product = selling["product"]
    ReorderPolicyFactory(product=product, warehouse=selling["SH1"])
    client.force_login(make_user(roles.OPERATIONS))
    small = {"per_page": 25}
    product_page(client, product)
    with CaptureQueriesContext(connection) as baseline:
        response = client.get(reverse("inventory:product_detail", args=[product.pk]), small)
    assert response.context["panels"] and len(response.context["ledger"].items) == 25

    # When the page shows more ledger rows and more policies
    ReorderPolicyFactory(product=product, warehouse=selling["BJ2"])
    ReorderPolicyFactory(product=product, warehouse=WarehouseFactory(code="GZ3"))
    with django_assert_num_queries(len(baseline.captured_queries)):
        response = client.get(reverse("inventory:product_detail", args=[product.pk]), {"per_page": 100})

    # Then the number of queries is the same
    assert len(response.context["ledger"].items) == 100
    assert len(response.context["panels"][0].context["policies"]) == 3


# --- in a real browser: Chart.js draws under the strict CSP -------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_chart_draws_in_the_browser_without_console_errors(page, make_user, console_messages):  # noqa: F811
    from tests.browser.conftest import console_errors

    # Given a product with history and a Purchasing user who logs in
    product = ProductFactory(sku="SKU-CHART")
    warehouse = WarehouseFactory(code="SH1")
    today = timezone.localdate()
    for offset in range(1, 60):
        ship(product, warehouse, today - timedelta(days=offset), 2 + offset % 7)
    make_user(roles.PURCHASING, username="buyer", password="pw-Test-12345")
    page.goto(f"/accounts/login/?next=/inventory/products/{product.pk}/")
    page.fill("#id_username", "buyer")
    page.fill("#id_password", "pw-Test-12345")
    page.click("button[type=submit]")

    # When the product page has loaded its scripts
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('forecast-chart'))")

    # Then the chart holds both series over the 42 days, and the page logged no error (CSP included)
    drawn = page.evaluate(
        "() => { const chart = Chart.getChart(document.getElementById('forecast-chart'));"
        " return [chart.data.labels.length, chart.data.datasets.length]; }"
    )
    assert drawn == [42, 2]
    assert page.locator("#forecast-chart").bounding_box()["height"] > 100
    page.click("#forecast-table summary")
    assert page.locator("#forecast-table tbody tr").count() == 42
    assert console_errors(console_messages) == []
