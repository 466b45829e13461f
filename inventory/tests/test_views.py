"""Inventory portal: products (filters, keyset pages, query count), stock by warehouse and ledger,
warehouses, low stock, the adjustment / transfer / cycle-count forms, roles, admin and tiles."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.hooks import DASHBOARD_TILES
from inventory import services
from inventory.models import StockLevel, StockMovement
from inventory.selectors import dashboard_tiles
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock

PRODUCTS = reverse("inventory:product_list")


@pytest.fixture
def stock(db):
    """SH1 and BJ2; SKU-A 10 in SH1 + 4 in BJ2; SKU-B 2 in SH1 (threshold 5 → low); SKU-Z inactive."""
    shanghai = WarehouseFactory(code="SH1", priority=1)
    beijing = WarehouseFactory(code="BJ2", priority=2)
    a = ProductFactory(sku="SKU-A", name="Alpha bolt")
    b = ProductFactory(sku="SKU-B", name="Beta nut", low_stock_threshold=5)
    z = ProductFactory(sku="SKU-Z", name="Zeta retired", active=False)
    give_stock(a, shanghai, 10)
    give_stock(a, beijing, 4)
    give_stock(b, shanghai, 2)
    return {"SH1": shanghai, "BJ2": beijing, "A": a, "B": b, "Z": z}


@pytest.fixture
def warehouse_client(client, make_user):
    client.force_login(make_user("Warehouse"))
    return client


def skus_in(response) -> list[str]:
    return [product.sku for product in response.context["page"]]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- access ---------------------------------------------------------------------------------
VIEW_PAGES = ["inventory:index", "inventory:product_list", "inventory:warehouse_list", "inventory:low_stock"]
FORM_PAGES = ["inventory:stock_adjust", "inventory:stock_transfer", "inventory:stock_count"]


@pytest.mark.parametrize("role", ["Operations", "Warehouse", "Purchasing", "Analyst"])
def test_view_pages_open_for_roles_with_the_inventory_section(client, make_user, stock, role):
    client.force_login(make_user(role))

    for name in VIEW_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("inventory:product_detail", args=[stock["A"].pk])).status_code == 200


def test_supplier_users_get_403_everywhere_in_inventory(client, make_user, stock):
    client.force_login(make_user("Supplier"))

    for name in VIEW_PAGES + FORM_PAGES:
        assert client.get(reverse(name)).status_code == 403, name


@pytest.mark.parametrize(("role", "status"), [("Warehouse", 200), ("Operations", 403), ("Analyst", 403),
                                              ("Purchasing", 403)])
def test_stock_forms_need_the_change_stock_permission(client, make_user, stock, role, status):
    client.force_login(make_user(role))

    for name in FORM_PAGES:
        assert client.get(reverse(name)).status_code == status, name
    posted = client.post(reverse("inventory:stock_adjust"),
                         {"product": "SKU-A", "warehouse": "SH1", "quantity": "1", "reason": "found"})
    assert posted.status_code == (302 if status == 200 else 403)


def test_product_page_shows_stock_buttons_only_to_those_who_may_move_stock(client, make_user, stock):
    url = reverse("inventory:product_detail", args=[stock["A"].pk])
    client.force_login(make_user("Operations"))
    assert reverse("inventory:stock_adjust").encode() not in client.get(url).content
    client.force_login(make_user("Warehouse"))
    assert reverse("inventory:stock_adjust").encode() in client.get(url).content


# --- products -------------------------------------------------------------------------------
def test_product_list_filters_by_sku_name_active_and_low_stock(warehouse_client, stock):
    assert skus_in(warehouse_client.get(PRODUCTS)) == ["SKU-A", "SKU-B", "SKU-Z"]
    assert skus_in(warehouse_client.get(PRODUCTS, {"sku": "SKU-B"})) == ["SKU-B"]
    assert skus_in(warehouse_client.get(PRODUCTS, {"name": "bolt"})) == ["SKU-A"]
    assert skus_in(warehouse_client.get(PRODUCTS, {"active": "false"})) == ["SKU-Z"]
    assert skus_in(warehouse_client.get(PRODUCTS, {"active": "true"})) == ["SKU-A", "SKU-B"]
    assert skus_in(warehouse_client.get(PRODUCTS, {"low_stock": "true"})) == ["SKU-B"]


def test_product_list_shows_totals_over_warehouses(warehouse_client, stock):
    services.stock_reserve(lines=[services.StockLine(stock["A"].pk, stock["SH1"].pk, 3)])

    response = warehouse_client.get(PRODUCTS, {"sku": "SKU-A"})

    product = response.context["page"].items[0]
    assert (product.on_hand, product.reserved, product.available) == (14, 3, 11)


def test_product_list_pages_by_sku_without_counting(warehouse_client, stock):
    for index in range(30):
        ProductFactory(sku=f"SKU-P{index:02d}")

    with CaptureQueriesContext(connection) as queries:
        first = warehouse_client.get(PRODUCTS, {"per_page": 25})
        second = warehouse_client.get(PRODUCTS, {"per_page": 25, "after": first.context["page"].next_cursor})

    assert len(skus_in(first)) == 25 and first.context["page"].has_next
    assert skus_in(second)[-1] == "SKU-Z" and not second.context["page"].has_next
    assert set(skus_in(first)).isdisjoint(skus_in(second))
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "inventory_product" in q["sql"]]


def test_product_list_query_count_is_the_same_for_5_and_50_rows(warehouse_client, stock, django_assert_num_queries):
    for index in range(2):
        give_stock(ProductFactory(sku=f"SKU-Q{index:02d}"), stock["BJ2"], 1)
    warehouse_client.get(PRODUCTS)
    with CaptureQueriesContext(connection) as five_rows:
        assert len(warehouse_client.get(PRODUCTS).context["page"]) == 5
    for index in range(2, 47):
        give_stock(ProductFactory(sku=f"SKU-Q{index:02d}"), stock["SH1"], 1)

    with django_assert_num_queries(len(five_rows.captured_queries)):
        response = warehouse_client.get(PRODUCTS)

    assert len(response.context["page"]) == 50


def test_htmx_product_filter_returns_the_results_fragment(warehouse_client, stock):
    response = warehouse_client.get(PRODUCTS, {"sku": "SKU-A"}, HTTP_HX_REQUEST="true")

    assert "HX-Request" in response["Vary"]
    assert b"<html" not in response.content and b'id="product-table"' in response.content


def test_product_detail_shows_stock_by_warehouse_and_the_ledger_with_balances(warehouse_client, stock):
    services.stock_adjust(product=stock["A"], warehouse=stock["SH1"], quantity=-3, reason="damaged")
    services.stock_reserve(lines=[services.StockLine(stock["A"].pk, stock["BJ2"].pk, 1)])

    response = warehouse_client.get(reverse("inventory:product_detail", args=[stock["A"].pk]))

    rows = {row.warehouse.code: (row.on_hand, row.reserved, row.available) for row in response.context["stock_rows"]}
    assert rows == {"SH1": (7, 0, 7), "BJ2": (4, 1, 3)}
    assert response.context["totals"] == {"on_hand": 11, "reserved": 1, "available": 10}
    ledger = [(m.warehouse.code, m.kind, m.quantity, m.balance_after) for m in response.context["ledger"]]
    assert ledger == [("SH1", "adjustment", -3, 7), ("BJ2", "receipt", 4, 4), ("SH1", "receipt", 10, 10)]
    assert b"damaged" in response.content


def test_product_ledger_filters_by_warehouse_and_pages(warehouse_client, stock):
    for _ in range(30):
        services.stock_adjust(product=stock["A"], warehouse=stock["BJ2"], quantity=1, reason="recount")
    url = reverse("inventory:product_detail", args=[stock["A"].pk])

    first = warehouse_client.get(url, {"warehouse": "BJ2", "per_page": 25})
    second = warehouse_client.get(url, {"warehouse": "BJ2", "per_page": 25, "after": first.context["ledger"].next_cursor})

    balances = [m.balance_after for m in first.context["ledger"]] + [m.balance_after for m in second.context["ledger"]]
    assert balances == list(range(34, 3, -1))
    assert {m.warehouse.code for m in second.context["ledger"]} == {"BJ2"}


def test_unknown_product_is_404(warehouse_client, db):
    assert warehouse_client.get(reverse("inventory:product_detail", args=[424242])).status_code == 404


def test_warehouse_list_sums_stock_per_warehouse(warehouse_client, stock):
    response = warehouse_client.get(reverse("inventory:warehouse_list"))

    figures = {w.code: (w.sku_count, w.on_hand_total, w.reserved_total) for w in response.context["warehouses"]}
    assert figures == {"SH1": (2, 12, 0), "BJ2": (1, 4, 0)}


def test_low_stock_list_shows_rows_at_or_below_threshold(warehouse_client, stock):
    response = warehouse_client.get(reverse("inventory:low_stock"))

    assert [(level.product.sku, level.warehouse.code) for level in response.context["page"]] == [("SKU-B", "SH1")]


# --- stock forms ----------------------------------------------------------------------------
def test_adjustment_posts_a_ledger_movement_with_its_reason(warehouse_client, stock):
    response = warehouse_client.post(reverse("inventory:stock_adjust"),
                                     {"product": "SKU-A", "warehouse": "SH1", "quantity": "-4", "reason": "broken"})

    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:product_detail", args=[stock["A"].pk])
    movement = StockMovement.objects.filter(product=stock["A"]).order_by("-id").first()
    assert (movement.kind, movement.quantity, movement.balance_after, movement.reason) == ("adjustment", -4, 6, "broken")
    assert movement.user is not None
    assert any("6 on hand" in text for text in messages_of(response))


def test_adjustment_needs_a_reason_and_a_known_sku(warehouse_client, stock):
    response = warehouse_client.post(reverse("inventory:stock_adjust"),
                                     {"product": "NOPE", "warehouse": "SH1", "quantity": "2", "reason": "  "})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "reason" in errors and "product" in errors
    assert StockMovement.objects.count() == 3


def test_adjustment_below_reserved_is_a_form_error_not_a_500(warehouse_client, stock):
    services.stock_reserve(lines=[services.StockLine(stock["A"].pk, stock["SH1"].pk, 8)])

    response = warehouse_client.post(reverse("inventory:stock_adjust"),
                                     {"product": "SKU-A", "warehouse": "SH1", "quantity": "-5", "reason": "lost"})

    assert response.status_code == 200
    assert "Not enough stock" in " ".join(response.context["form"].errors["quantity"])
    assert StockLevel.objects.get(product=stock["A"], warehouse=stock["SH1"]).on_hand == 10


def test_transfer_moves_units_between_warehouses(warehouse_client, stock):
    response = warehouse_client.post(reverse("inventory:stock_transfer"), {
        "product": "SKU-A", "from_warehouse": "SH1", "to_warehouse": "BJ2", "quantity": "6", "reason": "rebalance"})

    assert response.status_code == 302
    levels = dict(StockLevel.objects.filter(product=stock["A"]).values_list("warehouse__code", "on_hand"))
    assert levels == {"SH1": 4, "BJ2": 10}


def test_transfer_refuses_the_same_warehouse_and_more_than_available(warehouse_client, stock):
    same = warehouse_client.post(reverse("inventory:stock_transfer"), {
        "product": "SKU-A", "from_warehouse": "SH1", "to_warehouse": "SH1", "quantity": "1"})
    too_many = warehouse_client.post(reverse("inventory:stock_transfer"), {
        "product": "SKU-A", "from_warehouse": "BJ2", "to_warehouse": "SH1", "quantity": "5"})

    assert same.status_code == too_many.status_code == 200
    assert "to_warehouse" in same.context["form"].errors
    assert too_many.context["form"].errors
    assert dict(StockLevel.objects.filter(product=stock["A"]).values_list("warehouse__code", "on_hand")) == {
        "SH1": 10, "BJ2": 4}


def test_cycle_count_posts_the_difference(warehouse_client, stock):
    counted = warehouse_client.post(reverse("inventory:stock_count"),
                                    {"product": "SKU-A", "warehouse": "SH1", "counted": "7", "reason": "aisle 3"})
    same = warehouse_client.post(reverse("inventory:stock_count"),
                                 {"product": "SKU-A", "warehouse": "SH1", "counted": "7"})

    assert counted.status_code == same.status_code == 302
    movement = StockMovement.objects.filter(product=stock["A"], kind="count_correction").get()
    assert (movement.quantity, movement.balance_after) == (-3, 7)
    assert any("nothing posted" in text for text in messages_of(same))


def test_cycle_count_below_reserved_is_refused_on_the_form(warehouse_client, stock):
    services.stock_reserve(lines=[services.StockLine(stock["A"].pk, stock["SH1"].pk, 5)])

    response = warehouse_client.post(reverse("inventory:stock_count"),
                                     {"product": "SKU-A", "warehouse": "SH1", "counted": "2"})

    assert response.status_code == 200
    assert "reserved" in " ".join(response.context["form"].errors["counted"])


def test_forms_prefill_from_the_query_string(warehouse_client, stock):
    response = warehouse_client.get(reverse("inventory:stock_count"), {"product": "SKU-B", "warehouse": "SH1"})

    assert response.context["form"]["product"].value() == "SKU-B"
    assert response.context["form"]["warehouse"].value() == "SH1"


# --- admin ----------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["product", "warehouse", "stocklevel", "stockmovement"])
def test_admin_pages_render(client, make_user, stock, model):
    client.force_login(make_user(superuser=True))
    objects = {"product": stock["A"], "warehouse": stock["SH1"],
               "stocklevel": StockLevel.objects.filter(product=stock["A"]).first(),
               "stockmovement": StockMovement.objects.first()}

    assert client.get(reverse(f"admin:inventory_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:inventory_{model}_change", args=[objects[model].pk])).status_code == 200


def test_ledger_is_read_only_in_the_admin(client, make_user, stock):
    client.force_login(make_user(superuser=True))
    movement = StockMovement.objects.first()

    assert client.get(reverse("admin:inventory_stockmovement_add")).status_code == 403
    assert client.get(reverse("admin:inventory_stockmovement_delete", args=[movement.pk])).status_code == 403
    assert client.get(reverse("admin:inventory_stocklevel_add")).status_code == 403
    page = client.get(reverse("admin:inventory_stockmovement_change", args=[movement.pk]))
    assert b'name="quantity"' not in page.content


def test_stock_level_admin_never_writes_quantities_directly(client, make_user, stock):
    client.force_login(make_user(superuser=True))
    level = StockLevel.objects.get(product=stock["A"], warehouse=stock["SH1"])
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])
    assert b'name="on_hand"' not in client.get(url).content
    services.stock_reserve(lines=[services.StockLine(stock["A"].pk, stock["SH1"].pk, 2)])  # meanwhile

    client.post(url, {"on_hand": "999", "reserved": "0"})

    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (10, 2)


def test_stock_level_admin_adjust_action_goes_through_the_ledger(client, make_user, stock):
    client.force_login(make_user(superuser=True))
    levels = list(StockLevel.objects.filter(product=stock["A"]).order_by("warehouse__priority"))
    url = reverse("admin:inventory_stocklevel_changelist")
    selection = {"action": "adjust_stock", "_selected_action": [level.pk for level in levels]}

    form = client.post(url, selection)
    done = client.post(url, {**selection, "apply": "1", "quantity": "-5", "reason": "water damage"}, follow=True)

    assert form.status_code == 200 and b'name="reason"' in form.content
    assert dict(StockLevel.objects.filter(product=stock["A"]).values_list("warehouse__code", "on_hand")) == {
        "SH1": 5, "BJ2": 4}
    texts = [str(m) for m in done.context["messages"]]
    assert any("SKU-A@BJ2" in text for text in texts)  # 4 on hand cannot lose 5: reported, not raised
    assert StockMovement.objects.filter(kind="adjustment", reason="water damage").count() == 1


def test_product_admin_shows_stock_levels_inline(client, make_user, stock):
    client.force_login(make_user(superuser=True))

    response = client.get(reverse("admin:inventory_product_change", args=[stock["A"].pk]))

    assert b"SH1" in response.content and b"BJ2" in response.content


# --- dashboard ------------------------------------------------------------------------------
def test_inventory_tiles_count_low_stock_rows(stock):
    fills = [(filler.function, dict(filler.options)) for filler in DASHBOARD_TILES.fillers()]
    assert (dashboard_tiles, {"section": "inventory"}) in fills
    tiles = {tile["label"]: tile["value"] for tile in dashboard_tiles(None)}
    assert tiles["Low-stock rows"] == 1


def test_list_prices_are_decimals_on_the_product_list(warehouse_client, stock):
    stock["A"].list_price = Decimal("1234.50")
    stock["A"].save()

    response = warehouse_client.get(PRODUCTS, {"sku": "SKU-A"})

    assert b"1,234.50" in response.content
