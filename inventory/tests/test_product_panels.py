"""Product page panels: higher apps fill inventory.hooks.PRODUCT_PANELS (no upward import); the
product page renders them in order, loads their scripts only when shown, and stays constant in
queries however long the ledger is."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import hooks
from inventory import hooks as inventory_hooks
from inventory import services
from inventory.panels import ProductPanel
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock

PANEL_TEMPLATE = '<section class="test-panel" data-name="{{ panel.name }}">{{ panel.text }}</section>'


@pytest.fixture
def panel_templates(settings, tmp_path):
    """A template directory with test panel templates (the real ones belong to higher apps)."""
    folder = tmp_path / "test_panels"
    folder.mkdir()
    (folder / "panel.html").write_text(PANEL_TEMPLATE)
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    settings.TEMPLATES = templates
    return "test_panels/panel.html"


@pytest.fixture
def only_test_panels():
    """Hide the panels the installed apps provide; restore them afterwards."""
    with hooks.isolated(inventory_hooks.PRODUCT_PANELS):
        yield


@pytest.fixture
def product(db):
    product = ProductFactory(sku="SKU-P")
    give_stock(product, WarehouseFactory(code="SH1"), 10)
    return product


@pytest.fixture
def warehouse_client(client, make_user):
    client.force_login(make_user("Warehouse"))
    return client


def product_url(product) -> str:
    return reverse("inventory:product_detail", args=[product.pk])


def test_provided_panels_render_in_order_with_their_context_and_scripts(
    warehouse_client, product, panel_templates, only_test_panels
):
    # Given two panels provided out of order, sharing one script
    def late_panel(product, request):
        return ProductPanel(name="late", template_name=panel_templates, order=20,
                            scripts=("js/shared.js", "js/late.js"),
                            context={"name": "late", "text": f"late {product.sku}"})

    def early_panel(product, request):
        return ProductPanel(name="early", template_name=panel_templates, order=10, scripts=("js/shared.js",),
                            context={"name": "early", "text": f"for {request.user.get_username()}"})

    hooks.fill(inventory_hooks.PRODUCT_PANELS, late_panel)
    hooks.fill(inventory_hooks.PRODUCT_PANELS, early_panel)

    # When the product page opens
    response = warehouse_client.get(product_url(product))

    # Then both panels are there in order, and each script is loaded once, in the <head>
    content = response.content.decode()
    assert content.index('data-name="early"') < content.index('data-name="late"') < content.index('id="ledger"')
    assert "late SKU-P" in content and f"for {response.wsgi_request.user.get_username()}" in content
    head = content.split("</head>")[0]
    assert head.count("js/shared.js") == 1 and head.index("js/shared.js") < head.index("js/late.js")
    assert [panel.name for panel in response.context["panels"]] == ["early", "late"]


def test_a_provider_answering_none_leaves_its_panel_and_scripts_out(
    warehouse_client, product, panel_templates, only_test_panels
):
    def hidden_panel(product, request):  # shown to superusers only
        panel = ProductPanel(name="hidden", template_name=panel_templates, scripts=("js/hidden_only.js",),
                             context={"name": "hidden", "text": "secret"})
        return panel if request.user.is_superuser else None

    hooks.fill(inventory_hooks.PRODUCT_PANELS, hidden_panel)

    response = warehouse_client.get(product_url(product))

    assert response.status_code == 200
    assert 'class="test-panel"' not in response.content.decode()
    assert "hidden_only.js" not in response.content.decode()


def test_the_htmx_ledger_fragment_runs_no_panel(warehouse_client, product, panel_templates, only_test_panels):
    calls = []

    def counted_panel(product, request):
        calls.append(product.pk)
        return ProductPanel(name="counted", template_name=panel_templates, context={"text": "x"})

    hooks.fill(inventory_hooks.PRODUCT_PANELS, counted_panel)

    response = warehouse_client.get(product_url(product), HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and b"<html" not in response.content
    assert calls == []


def test_product_page_query_count_is_the_same_for_5_and_50_ledger_rows(
    warehouse_client, product, django_assert_num_queries
):
    # The installed apps' panels (purchasing's forecast) stay in: the whole page counts.
    warehouse = product.stock_levels.get().warehouse
    for _ in range(4):
        services.stock_adjust(product=product, warehouse=warehouse, quantity=1, reason="found")
    warehouse_client.get(product_url(product))
    with CaptureQueriesContext(connection) as five_rows:
        response = warehouse_client.get(product_url(product))
    assert len(response.context["ledger"].items) == 5
    for _ in range(45):
        services.stock_adjust(product=product, warehouse=warehouse, quantity=1, reason="found")

    with django_assert_num_queries(len(five_rows.captured_queries)):
        response = warehouse_client.get(product_url(product))

    assert len(response.context["ledger"].items) == 50
