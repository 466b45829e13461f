"""Bounded input (issue 8): every quantity, amount, list, text, code and date is checked where it
enters — API serializer, portal form, admin — and again by the service, with the limit in the
message; never a database error. The limits live in core.limits, the validators in core.validators."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exceptions import Conflict, ValidationFailed
from core.limits import (
    MAX_NOTES_LENGTH,
    MAX_PRICE_BREAKS,
    MAX_PURCHASE_ORDER_LINES,
    MAX_QUANTITY,
    decimal_max,
    integer_max,
    latest_date,
)
from inventory import services as stock
from inventory.models import StockLevel, StockMovement
from inventory.services import MAX_ON_HAND, StockLine
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders.models import SalesOrder
from orders.tests.factories import ChannelFactory, api_order_body
from suppliers import services as purchasing
from suppliers.models import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierProduct
from suppliers.tests.factories import SupplierFactory, offer, sent_order

PURCHASE_ORDERS = "/api/v1/purchase-orders/"
ORDERS = "/api/v1/orders/"
ADJUSTMENTS = "/api/v1/stock/adjustments/"


@pytest.fixture
def catalogue(db):
    warehouse = WarehouseFactory(code="WH1")
    product = ProductFactory(sku="SKU-0001", list_price=Decimal("19.90"))
    give_stock(product, warehouse, 50)
    ChannelFactory(code="web")
    supplier = SupplierFactory(code="acme")
    offer(product, supplier, cost="4.50")
    return {"warehouse": warehouse, "product": product, "supplier": supplier}


def po_body(**line_overrides) -> dict:
    line = {"sku": "SKU-0001", "quantity": 10, "unit_cost": "4.5000", **line_overrides}
    return {"supplier": "acme", "warehouse": "WH1", "lines": [line]}


# --- the limits come from the columns -------------------------------------------------------
def test_amount_and_counter_limits_are_read_from_the_columns():
    assert decimal_max(PurchaseOrderLine._meta.get_field("unit_cost")) == Decimal("99999999.9999")
    assert decimal_max(SalesOrder._meta.get_field("total")) == Decimal("999999999999.99")
    assert integer_max(StockLevel._meta.get_field("on_hand")) == MAX_ON_HAND == 2_147_483_647


# --- quantities and amounts past their columns --------------------------------------------
def test_purchase_order_whose_total_overflows_its_column_is_400_naming_the_limit(api_client, catalogue):
    client = api_client("Purchasing")

    response = client.post(PURCHASE_ORDERS, po_body(quantity=1_000_000, unit_cost="99999999.9999"), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["field"] == "lines"
    assert "999999999999.99" in response.json()["detail"]
    assert not PurchaseOrder.objects.exists()


def test_portal_purchase_order_form_refuses_the_same_total(client, make_user, catalogue):
    client.force_login(make_user("Purchasing"))
    data = {
        "supplier": catalogue["supplier"].pk, "warehouse": catalogue["warehouse"].pk, "notes": "",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1", "lines-MAX_NUM_FORMS": "200",
        "lines-0-sku": "SKU-0001", "lines-0-quantity": "1000000", "lines-0-unit_cost": "99999999.9999",
    }

    response = client.post(reverse("suppliers:purchase_order_create"), data)

    assert response.status_code == 200
    assert "999999999999.99" in response.content.decode()
    assert not PurchaseOrder.objects.exists()


def test_unit_cost_beyond_its_column_is_refused_by_the_api_and_the_service(api_client, catalogue):
    client = api_client("Purchasing")

    response = client.post(PURCHASE_ORDERS, po_body(unit_cost="123456789.5"), format="json")

    assert response.status_code == 400
    assert response.json()["field"] == "lines[0].unit_cost"
    with pytest.raises(ValidationFailed, match=r"at most 99999999\.9999"):
        purchasing.purchase_order_create(
            supplier=catalogue["supplier"], warehouse=catalogue["warehouse"],
            lines=[purchasing.PurchaseOrderLineInput(product="SKU-0001", quantity=1, unit_cost="123456789.5")],
        )


def test_order_whose_total_overflows_its_column_is_400_not_a_database_error(api_client, catalogue):
    client = api_client("Operations")
    body = api_order_body(lines=[{"sku": "SKU-0001", "quantity": 100_000, "unit_price": "9999999999.99"}])

    response = client.post(ORDERS, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["field"] == "lines"
    assert "999999999999.99" in response.json()["detail"]
    assert not SalesOrder.objects.exists()


def test_adjustment_past_what_a_stock_level_holds_is_a_409_naming_the_limit(api_client, catalogue):
    product, warehouse = catalogue["product"], catalogue["warehouse"]
    stock.stock_receive_many(lines=[StockLine(product.pk, warehouse.pk, MAX_QUANTITY)] * 2147, reference="fill")
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    movements = StockMovement.objects.count()
    client = api_client("Warehouse")

    response = client.post(
        ADJUSTMENTS, {"sku": "SKU-0001", "warehouse": "WH1", "quantity": MAX_QUANTITY, "reason": "found"}, format="json"
    )

    assert response.status_code == 409, response.content
    assert response.json()["field"] == "quantity"
    assert "2147483647" in response.json()["detail"]
    assert StockMovement.objects.count() == movements
    assert StockLevel.objects.get(pk=level.pk).on_hand == level.on_hand


def test_portal_adjustment_past_what_a_stock_level_holds_is_a_form_error(client, make_user, catalogue):
    product, warehouse = catalogue["product"], catalogue["warehouse"]
    stock.stock_receive_many(lines=[StockLine(product.pk, warehouse.pk, MAX_QUANTITY)] * 2147, reference="fill")
    client.force_login(make_user("Warehouse"))

    response = client.post(reverse("inventory:stock_adjust"),
                           {"product": "SKU-0001", "warehouse": "WH1", "quantity": str(MAX_QUANTITY), "reason": "found"})

    assert response.status_code == 200
    assert "2147483647" in " ".join(response.context["form"].errors["quantity"])


def test_cycle_count_above_the_quantity_limit_is_refused_by_the_service(catalogue):
    with pytest.raises(ValidationFailed, match=f"at most {MAX_QUANTITY}"):
        stock.stock_count(product=catalogue["product"], warehouse=catalogue["warehouse"], counted=MAX_QUANTITY + 1)


# --- lists and texts ------------------------------------------------------------------------
def test_purchase_order_with_too_many_lines_or_too_long_notes_is_400(api_client, catalogue):
    client = api_client("Purchasing")
    many = {**po_body(), "lines": [{"sku": f"S{i}", "quantity": 1} for i in range(MAX_PURCHASE_ORDER_LINES + 1)]}
    long_notes = {**po_body(), "notes": "x" * 1_000_000}

    too_many = client.post(PURCHASE_ORDERS, many, format="json")
    too_long = client.post(PURCHASE_ORDERS, long_notes, format="json")

    assert too_many.status_code == 400 and too_many.json()["field"] == "lines"
    assert str(MAX_PURCHASE_ORDER_LINES) in too_many.json()["detail"]
    assert too_long.status_code == 400 and too_long.json()["field"] == "notes"
    assert str(MAX_NOTES_LENGTH) in too_long.json()["detail"]
    assert not PurchaseOrder.objects.exists()


def test_services_refuse_too_many_lines_notes_and_price_breaks(catalogue):
    supplier, warehouse, product = catalogue["supplier"], catalogue["warehouse"], catalogue["product"]
    line = purchasing.PurchaseOrderLineInput(product=product.pk, quantity=1, unit_cost="1")

    with pytest.raises(ValidationFailed, match=str(MAX_PURCHASE_ORDER_LINES)):
        purchasing.purchase_order_create(supplier=supplier, warehouse=warehouse,
                                         lines=[line] * (MAX_PURCHASE_ORDER_LINES + 1))
    with pytest.raises(ValidationFailed, match=str(MAX_NOTES_LENGTH)):
        purchasing.purchase_order_create(supplier=supplier, warehouse=warehouse, lines=[line],
                                         notes="x" * (MAX_NOTES_LENGTH + 1))
    breaks = [purchasing.PriceBreakInput(quantity, Decimal("1")) for quantity in range(1, MAX_PRICE_BREAKS + 2)]
    with pytest.raises(ValidationFailed, match=str(MAX_PRICE_BREAKS)):
        purchasing.supplier_product_save(
            supplier_product=SupplierProduct(supplier=supplier, product=product, cost=Decimal("2")),
            price_breaks=breaks,
        )
    assert not PurchaseOrder.objects.exists()


# --- JSON types: a quantity is an integer, an amount a string --------------------------------
@pytest.mark.parametrize(("path", "role", "body", "field"), [
    (PURCHASE_ORDERS, "Purchasing", po_body(quantity="5"), "lines[0].quantity"),
    (PURCHASE_ORDERS, "Purchasing", po_body(quantity=5.0), "lines[0].quantity"),
    (PURCHASE_ORDERS, "Purchasing", po_body(unit_cost=4.5), "lines[0].unit_cost"),
    (ADJUSTMENTS, "Warehouse", {"sku": "SKU-0001", "warehouse": "WH1", "quantity": "5", "reason": "x"}, "quantity"),
    (ORDERS, "Operations", api_order_body(lines=[{"sku": "SKU-0001", "quantity": "5"}]), "lines[0].quantity"),
    (ORDERS, "Operations", api_order_body(lines=[{"sku": "SKU-0001", "quantity": 1, "unit_price": 19.9}]),
     "lines[0].unit_price"),
], ids=["po quantity text", "po quantity float", "po cost number", "adjustment text", "order quantity text",
        "order price number"])
def test_quantities_must_be_json_integers_and_amounts_strings_everywhere(api_client, catalogue, path, role, body, field):
    response = api_client(role).post(path, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field


def test_receipt_quantity_as_text_is_refused_and_books_nothing(api_client, catalogue):
    po = sent_order(catalogue["supplier"], catalogue["warehouse"], (catalogue["product"], 10))
    line = po.lines.get()

    response = api_client("Purchasing").post(
        f"{PURCHASE_ORDERS}{po.pk}/receive/", {"lines": [{"line_id": line.pk, "quantity": "5"}]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["field"] == "lines[0].quantity"
    line.refresh_from_db()
    assert line.quantity_received == 0


# --- ISO codes --------------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "value"), [
    ("currency", "ÄÖÜ"), ("currency", "XYZ"), ("currency", "zz1"), ("currency", "usd"), ("country", "ÄÖ"),
    ("country", "XX"), ("country", "de"),
])
def test_supplier_currency_and_country_must_be_iso_codes(api_client, db, field, value):
    body = {"code": "new-one", "name": "New One", "currency": "USD", "country": "DE", field: value}

    response = api_client("Purchasing").post("/api/v1/suppliers/", body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert not Supplier.objects.filter(code="new-one").exists()


def test_supplier_with_iso_codes_is_created(api_client, db):
    body = {"code": "new-one", "name": "New One", "currency": "EUR", "country": "DE"}

    response = api_client("Purchasing").post("/api/v1/suppliers/", body, format="json")

    assert response.status_code == 201, response.content
    assert Supplier.objects.get(code="new-one").currency == "EUR"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"currency": "XYZ"}, "currency"),
    ({"ship_to": {"line1": "1 Main St", "city": "X", "country": "ÄÖ"}}, "ship_to.country"),
])
def test_order_currency_and_ship_to_country_must_be_iso_codes(api_client, catalogue, overrides, field):
    response = api_client("Operations").post(ORDERS, api_order_body(**overrides), format="json")

    assert response.status_code == 400
    assert response.json()["field"] == field


def test_the_admin_and_the_portal_use_the_same_iso_validators(admin_client, client, make_user, catalogue):
    admin = admin_client.post("/admin/suppliers/supplier/add/", {
        "code": "adm", "name": "Adm", "country": "DE", "currency": "XYZ", "payment_terms": "",
        "default_lead_time_days": "14", "landed_cost_percent": "0",
    })
    client.force_login(make_user("Purchasing"))
    portal = client.post(reverse("suppliers:supplier_create"), {
        "code": "prt", "name": "Prt", "country": "ÄÖ", "currency": "EUR", "payment_terms": "",
        "default_lead_time_days": "14", "landed_cost_percent": "0",
    })

    assert "not an ISO 4217 currency code" in str(admin.context["adminform"].form.errors["currency"])
    assert "not an ISO 3166-1 country code" in str(portal.context["form"].errors["country"])
    assert not Supplier.objects.filter(code__in=["adm", "prt"]).exists()


# --- dates ------------------------------------------------------------------------------------
def test_requested_date_outside_the_window_is_refused_by_api_and_portal(api_client, client, make_user, catalogue):
    ChannelFactory(code="phone", kind="phone")
    too_late = latest_date() + timedelta(days=1)

    ancient = api_client("Operations").post(ORDERS, api_order_body(requested_date="0001-01-01"), format="json")
    late = api_client("Operations").post(ORDERS, api_order_body(requested_date=too_late.isoformat()), format="json")
    client.force_login(make_user("Operations"))
    portal = client.post(reverse("orders:order_create"), {
        "channel": "phone", "customer_name": "Mei", "customer_email": "mei@example.com", "ship_line1": "1 Rd",
        "ship_city": "Shanghai", "ship_country": "cn", "requested_date": "1999-12-31",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "500",
        "lines-0-sku": "SKU-0001", "lines-0-quantity": "1", "lines-0-unit_price": "",
    })

    assert ancient.status_code == 400 and ancient.json()["field"] == "requested_date"
    assert "2000-01-01" in ancient.json()["detail"]
    assert late.status_code == 400 and late.json()["field"] == "requested_date"
    assert "2000-01-01" in str(portal.context["form"].errors["requested_date"])
    assert not SalesOrder.objects.exists()


def test_expected_and_confirmed_dates_outside_the_window_are_refused(api_client, catalogue):
    client = api_client("Purchasing")
    po = sent_order(catalogue["supplier"], catalogue["warehouse"], (catalogue["product"], 10))

    created = client.post(PURCHASE_ORDERS, po_body(expected_date="0001-01-01"), format="json")
    confirmed = client.post(
        f"{PURCHASE_ORDERS}{po.pk}/acknowledge/",
        {"lines": [{"line_id": po.lines.get().pk, "confirmed_date": "9999-12-31"}]}, format="json",
    )

    assert created.status_code == 400 and created.json()["field"] == "lines[0].expected_date"
    assert confirmed.status_code == 400 and confirmed.json()["field"] == "lines[0].confirmed_date"
    with pytest.raises(ValidationFailed, match="Enter a date from 2000-01-01"):
        purchasing.purchase_order_confirm_dates(purchase_order=po, dates={po.lines.get().pk: date(1999, 1, 1)})


# --- query parameters ------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "query", "parameter"), [
    ("/api/v1/products/", "active=maybe", "active"),
    ("/api/v1/warehouses/", "active=", "active"),
    (ORDERS, "created_after=", "created_after"),
    (ORDERS, "customer=1e400", "customer"),
    (ORDERS, "created_before=9264-06-30T19:06:29-19:50", None),
    (PURCHASE_ORDERS, "created_after=", "created_after"),
    ("/api/v1/products/", "page_size=abc", "page_size"),
    ("/api/v1/products/", "page_size=0", "page_size"),
])
def test_query_values_a_filter_would_ignore_are_400(api_client, catalogue, path, query, parameter):
    response = api_client("Operations").get(f"{path}?{query}")

    if parameter is None:  # a valid moment whose offset PostgreSQL does not take: read in UTC
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 400, response.content
        assert response.json()["field"] == parameter


def test_page_size_above_the_maximum_is_cut_to_it_not_refused(api_client, catalogue):
    response = api_client("Operations").get("/api/v1/products/?page_size=100000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


# --- the service is the last line ------------------------------------------------------------
def test_services_refuse_codes_and_dates_the_forms_would_have_refused(catalogue):
    from orders import services as orders

    with pytest.raises(ValidationFailed) as currency:
        orders.place_order(
            channel="web", customer=orders.CustomerInput(name="A", email="a@example.com"),
            ship_to=orders.AddressInput(line1="1", city="X"), lines=[orders.LineInput("SKU-0001", 1)], currency="XYZ",
        )
    with pytest.raises(ValidationFailed) as requested:
        orders.place_order(
            channel="web", customer=orders.CustomerInput(name="A", email="a@example.com"),
            ship_to=orders.AddressInput(line1="1", city="X"), lines=[orders.LineInput("SKU-0001", 1)],
            requested_date=timezone.localdate().replace(year=1999),
        )
    with pytest.raises(Conflict):
        stock.stock_receive_many(
            lines=[StockLine(catalogue["product"].pk, catalogue["warehouse"].pk, MAX_QUANTITY)] * 2148, reference="x"
        )

    assert currency.value.field == "currency"
    assert requested.value.field == "requested_date"
    assert not SalesOrder.objects.exists()
