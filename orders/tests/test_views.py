"""Orders portal: list (filters, sort, keyset pages, bulk actions), detail actions, the phone/store
order form with its HTMX helpers, the public tracking page, the admin and the dashboard tiles."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.hooks import DASHBOARD_TILES
from core.pagination import keyset_page
from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services
from orders.models import Customer, OrderLine, SalesOrder
from orders.selectors import capped_count, dashboard_tiles
from orders.tests.factories import ChannelFactory, place

LIST = reverse("orders:order_list")


@pytest.fixture
def stock(db):
    """Channels web + phone, warehouses SH1/BJ2, SKU-A (10 in SH1), SKU-B (3 in BJ2), SKU-C (none)."""
    ChannelFactory(code="web")
    ChannelFactory(code="phone", kind="phone", name="Phone")
    ChannelFactory(code="store", kind="store", name="Store")
    shanghai = WarehouseFactory(code="SH1", priority=1)
    beijing = WarehouseFactory(code="BJ2", priority=2)
    a = ProductFactory(sku="SKU-A", name="Alpha widget", list_price=Decimal("10.00"))
    b = ProductFactory(sku="SKU-B", name="Beta widget", list_price=Decimal("4.50"))
    c = ProductFactory(sku="SKU-C", name="Gamma widget")
    give_stock(a, shanghai, 10)
    give_stock(b, beijing, 3)
    return {"SH1": shanghai, "BJ2": beijing, "A": a, "B": b, "C": c}


@pytest.fixture
def operations(client, make_user):
    client.force_login(make_user("Operations"))
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def numbers_in(response) -> list[str]:
    return [order.number for order in response.context["page"]]


# --- access ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "status"), [("Operations", 200), ("Warehouse", 200), ("Analyst", 200),
                                              ("Purchasing", 403), ("Supplier", 403)])
def test_order_list_opens_for_roles_with_the_orders_section(client, make_user, stock, role, status):
    client.force_login(make_user(role))

    assert client.get(LIST).status_code == status
    assert client.get(reverse("orders:index")).status_code == status


def test_anonymous_user_is_sent_to_login(client, db):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["Warehouse", "Analyst"])
def test_read_only_roles_see_orders_but_may_not_act_or_create(client, make_user, stock, role):
    order = place(("SKU-A", 1)).order
    client.force_login(make_user(role))

    detail = client.get(reverse("orders:order_detail", args=[order.pk]))

    assert detail.status_code == 200
    # Warehouse may only fulfil (pick, ship, deliver): test_fulfilment_permissions.py
    assert detail.context["actions"] == ({"pick", "ship"} if role == "Warehouse" else frozenset())
    assert client.get(reverse("orders:order_create")).status_code == 403
    assert client.get(reverse("orders:order_edit", args=[order.pk])).status_code == 403
    assert client.post(reverse("orders:order_action", args=[order.pk, "cancel"]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("orders:order_bulk_action"), {"action": "allocate", "ids": [order.pk]}).status_code == 403
    order.refresh_from_db()
    assert order.status == "allocated"


# --- list: filters, sort, pages -------------------------------------------------------------
def test_list_filters_by_status_channel_sku_warehouse_and_text(operations, stock):
    allocated = place(("SKU-A", 2), email="ann@example.com").order
    backordered = place(("SKU-C", 1), channel="phone", email="bob@example.com").order
    in_beijing = place(("SKU-B", 1), external_ref="SHOP-77", email="cy@example.com").order

    assert numbers_in(operations.get(LIST, {"status": "backordered"})) == [backordered.number]
    assert set(numbers_in(operations.get(LIST, {"status": ["allocated", "backordered"]}))) == {
        allocated.number, backordered.number, in_beijing.number}
    assert numbers_in(operations.get(LIST, {"channel": "phone"})) == [backordered.number]
    assert numbers_in(operations.get(LIST, {"sku": "SKU-A"})) == [allocated.number]
    assert numbers_in(operations.get(LIST, {"warehouse": "BJ2"})) == [in_beijing.number]
    assert numbers_in(operations.get(LIST, {"q": "SHOP-77"})) == [in_beijing.number]
    assert numbers_in(operations.get(LIST, {"q": backordered.number.lower()})) == [backordered.number]
    assert numbers_in(operations.get(LIST, {"q": "bob@"})) == [backordered.number]
    assert numbers_in(operations.get(LIST, {"customer": allocated.customer_id})) == [allocated.number]
    assert numbers_in(operations.get(LIST, {"group": "closed"})) == []


def test_list_rows_escape_what_shops_and_customers_typed(operations, stock):
    # given an order whose external reference and customer name carry markup
    order = place(("SKU-A", 1234), external_ref='<img src=x onerror="alert(1)">').order
    Customer.objects.filter(pk=order.customer_id).update(name="<b>Bold</b> & Co")
    SalesOrder.objects.filter(pk=order.pk).update(total=Decimal("12345.5"))
    # when the list shows it
    html = operations.get(LIST).content.decode()
    # then it is text, not markup; and the row carries the formatted figures and the detail link
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
    assert "12,345.50 CNY" in html
    assert f'href="{reverse("orders:order_detail", args=[order.pk])}"' in html


def test_list_filters_by_created_date_range(operations, stock):
    old = place(("SKU-A", 1), email="old@example.com").order
    new = place(("SKU-A", 1), email="new@example.com").order
    SalesOrder.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()

    recent = operations.get(LIST, {"created_after": (today - timedelta(days=1)).isoformat()})
    older = operations.get(LIST, {"created_before": (today - timedelta(days=5)).isoformat()})

    assert numbers_in(recent) == [new.number]
    assert numbers_in(older) == [old.number]


def test_list_sorts_only_by_whitelisted_columns(operations, stock):
    cheap = place(("SKU-B", 1), email="c@example.com").order
    dear = place(("SKU-A", 5), email="d@example.com").order

    by_total = operations.get(LIST, {"sort": "total"})
    by_total_desc = operations.get(LIST, {"sort": "-total"})
    injected = operations.get(LIST, {"sort": "customer__email"})

    assert numbers_in(by_total) == [cheap.number, dear.number]
    assert numbers_in(by_total_desc) == [dear.number, cheap.number]
    assert injected.status_code == 200
    assert injected.context["sort"] == "-created"
    assert numbers_in(injected) == [dear.number, cheap.number]


def test_list_pages_forward_and_back_without_counting(operations, stock):
    orders = [place(("SKU-C", 1), email=f"p{i}@example.com").order for i in range(27)]
    newest_first = [o.number for o in reversed(orders)]

    with CaptureQueriesContext(connection) as queries:
        first = operations.get(LIST, {"per_page": 25})
        second = operations.get(LIST, {"per_page": 25, "after": first.context["page"].next_cursor})
        back = operations.get(LIST, {"per_page": 25, "before": second.context["page"].previous_cursor})

    assert numbers_in(first) == newest_first[:25]
    assert first.context["page"].has_next and not first.context["page"].has_previous
    assert numbers_in(second) == newest_first[25:]
    assert not second.context["page"].has_next and second.context["page"].has_previous
    assert numbers_in(back) == newest_first[:25]
    order_queries = [q["sql"] for q in queries.captured_queries if '"orders_salesorder"' in q["sql"]]
    assert order_queries and not [sql for sql in order_queries if "COUNT(" in sql.upper()]


def test_keyset_page_walks_every_sort_without_gaps_or_repeats(stock):
    for i in range(7):
        place(("SKU-C", i % 3 + 1), email=f"k{i}@example.com")
    for keys in (("created_at", "id"), ("total", "id"), ("status", "-created_at", "-id"), ("number",)):
        for descending in (False, True):
            seen, cursor = [], None
            while True:
                page = keyset_page(SalesOrder.objects.all(), keys=keys, descending=descending, after=cursor,
                                   page_size=2)
                seen.extend(o.pk for o in page.items)
                if not page.has_next:
                    break
                cursor = page.next_cursor
            ordering = [k.removeprefix("-") if k.startswith("-") == descending else f"-{k.removeprefix('-')}"
                        for k in keys]
            assert seen == list(SalesOrder.objects.order_by(*ordering).values_list("pk", flat=True))
            walked_back, cursor = [], page.previous_cursor
            while cursor:
                page = keyset_page(SalesOrder.objects.all(), keys=keys, descending=descending, before=cursor,
                                   page_size=2)
                walked_back[:0] = [o.pk for o in page.items]
                cursor = page.previous_cursor if page.has_previous else None
            assert walked_back + seen[len(walked_back):] == seen


def test_a_tampered_cursor_shows_the_first_page(operations, stock):
    order = place(("SKU-A", 1)).order

    response = operations.get(LIST, {"after": "not-a-cursor!!"})

    assert response.status_code == 200
    assert numbers_in(response) == [order.number]


def test_invalid_filter_input_is_reported_not_a_500(operations, stock):
    place(("SKU-A", 1))

    response = operations.get(LIST, {"created_after": "yesterday-ish", "channel": "nope", "customer": "x"})

    assert response.status_code == 200
    assert set(response.context["filter"].form.errors) >= {"created", "channel", "customer"}
    assert len(response.context["page"]) == 1


def test_htmx_history_restore_gets_the_full_page(operations, stock):
    response = operations.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert b"<html" in response.content


def test_htmx_request_gets_the_results_fragment_and_vary_header(operations, stock):
    place(("SKU-A", 1))

    fragment = operations.get(LIST, {"status": "allocated"}, HTTP_HX_REQUEST="true")
    full = operations.get(LIST)

    assert "HX-Request" in fragment["Vary"]
    assert b"<html" not in fragment.content and b'id="bulk-form"' in fragment.content
    assert b"<html" in full.content


def _queries_for(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url, params or {}).status_code == 200
    return len(context.captured_queries)


def test_order_list_query_count_is_the_same_for_5_and_50_rows(operations, stock, django_assert_num_queries):
    for i in range(5):
        place(("SKU-A", 1), ("SKU-C", 1), email=f"q{i}@example.com")
    operations.get(LIST)  # warm the session and permission caches
    five = _queries_for(operations, LIST, {"per_page": 50})
    for i in range(45):
        place(("SKU-C", 2), ("SKU-B", 1), email=f"r{i}@example.com")

    with django_assert_num_queries(five):
        response = operations.get(LIST, {"per_page": 50})

    assert len(response.context["page"]) == 50


# --- bulk actions ---------------------------------------------------------------------------
def test_bulk_hold_reports_each_order_and_a_refused_one_does_not_stop_the_rest(operations, stock):
    first = place(("SKU-A", 1), email="h1@example.com").order
    second = place(("SKU-C", 1), email="h2@example.com").order
    shipped = place(("SKU-A", 1), email="h3@example.com").order
    services.ship_order(order=shipped.pk)

    response = operations.post(reverse("orders:order_bulk_action"),
                               {"action": "hold", "reason": "address check", "ids": [first.pk, second.pk, shipped.pk],
                                "next": f"{LIST}?status=allocated"})

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?status=allocated"
    texts = messages_of(response)
    assert any(first.number in t and second.number in t and "2 order" in t for t in texts)
    assert any(shipped.number in t and "cannot be put on hold" in t for t in texts)
    assert set(SalesOrder.objects.filter(status="on_hold").values_list("pk", flat=True)) == {first.pk, second.pk}


def test_bulk_cancel_releases_stock_and_needs_a_reason(operations, stock):
    order = place(("SKU-A", 4)).order
    level = StockLevel.objects.get(product=stock["A"], warehouse=stock["SH1"])
    assert level.reserved == 4

    refused = operations.post(reverse("orders:order_bulk_action"), {"action": "cancel", "ids": [order.pk]})
    done = operations.post(reverse("orders:order_bulk_action"),
                           {"action": "cancel", "ids": [order.pk], "reason": "customer called"})

    assert any("reason" in t.lower() for t in messages_of(refused))
    assert done.status_code == 302
    order.refresh_from_db()
    level.refresh_from_db()
    assert order.status == "cancelled" and order.cancel_reason == "customer called"
    assert level.reserved == 0


def test_bulk_allocate_fills_backorders_once_stock_arrived(operations, stock):
    waiting = place(("SKU-C", 2)).order
    assert waiting.status == "backordered"
    give_stock(stock["C"], stock["SH1"], 5)

    operations.post(reverse("orders:order_bulk_action"), {"action": "allocate", "ids": [waiting.pk, 999999]})

    waiting.refresh_from_db()
    assert waiting.status == "allocated"


def test_bulk_action_with_unknown_action_or_no_selection_is_a_message(operations, stock):
    nothing = operations.post(reverse("orders:order_bulk_action"), {"action": "allocate"})
    bogus = operations.post(reverse("orders:order_bulk_action"), {"action": "delete", "ids": ["1"]})

    assert nothing.status_code == bogus.status_code == 302
    assert messages_of(nothing) and messages_of(bogus)


# --- detail and actions ---------------------------------------------------------------------
def test_detail_shows_lines_allocations_timeline_and_only_allowed_actions(operations, stock):
    order = place(("SKU-A", 2), ("SKU-B", 5)).order  # B: 3 of 5 → partially allocated

    response = operations.get(reverse("orders:order_detail", args=[order.pk]))

    assert response.status_code == 200
    detail = response.context["detail"]
    assert [(line.product.sku, line.quantity_allocated, line.quantity_backordered) for line in detail.lines] == [
        ("SKU-A", 2, 0), ("SKU-B", 3, 2)]
    assert {group.warehouse.code: group.reserved for group in detail.allocations} == {"SH1": 2, "BJ2": 3}
    assert [event.to_status for event in detail.events if event.to_status][-1] == "partially_allocated"
    assert response.context["actions"] == {"allocate", "hold", "pick", "ship", "cancel", "edit"}
    content = response.content.decode()
    assert reverse("track", args=[order.tracking_token]) in content
    assert 'data-action="deliver"' not in content


def test_detail_actions_walk_the_lifecycle(operations, stock):
    order = place(("SKU-A", 2)).order
    url = lambda action: reverse("orders:order_action", args=[order.pk, action])  # noqa: E731

    for action, status in [("pick", "picking"), ("ship", "shipped"), ("deliver", "delivered"), ("close", "closed")]:
        response = operations.post(url(action))
        assert response.status_code == 302
        order.refresh_from_db()
        assert order.status == status, action

    detail = operations.get(reverse("orders:order_detail", args=[order.pk]))
    assert detail.context["actions"] == frozenset()


def test_hold_and_release_from_the_detail_page(operations, stock):
    order = place(("SKU-A", 1)).order

    operations.post(reverse("orders:order_action", args=[order.pk, "hold"]), {"reason": "fraud check"})
    order.refresh_from_db()
    assert order.status == "on_hold" and order.hold_reason == "fraud check"
    assert operations.get(reverse("orders:order_detail", args=[order.pk])).context["actions"] == {"release", "cancel"}

    operations.post(reverse("orders:order_action", args=[order.pk, "release"]))
    order.refresh_from_db()
    assert order.status == "allocated"


def test_action_refused_in_the_wrong_state_is_a_message_not_a_500(operations, stock):
    order = place(("SKU-A", 1)).order
    services.ship_order(order=order.pk)

    response = operations.post(reverse("orders:order_action", args=[order.pk, "cancel"]), {"reason": "too late"},
                               follow=True)

    assert response.status_code == 200
    assert any("cannot be cancelled" in t for t in [str(m) for m in response.context["messages"]])
    order.refresh_from_db()
    assert order.status == "shipped"


def test_cancel_without_reason_is_refused_with_a_message(operations, stock):
    order = place(("SKU-A", 1)).order

    response = operations.post(reverse("orders:order_action", args=[order.pk, "cancel"]))

    assert response.status_code == 302
    assert any("reason" in t.lower() for t in messages_of(response))
    order.refresh_from_db()
    assert order.status == "allocated"


def test_actions_are_post_only_and_unknown_ones_404(operations, stock):
    order = place(("SKU-A", 1)).order

    assert operations.get(reverse("orders:order_action", args=[order.pk, "cancel"])).status_code == 405
    assert operations.post(reverse("orders:order_action", args=[order.pk, "explode"])).status_code == 404
    assert operations.post(reverse("orders:order_action", args=[987654, "cancel"]), {"reason": "x"}).status_code == 404


def test_order_detail_query_count_is_the_same_for_5_and_50_lines(operations, stock, django_assert_num_queries):
    skus = [ProductFactory(sku=f"SKU-L{i:02d}").sku for i in range(50)]
    for sku in skus[:25]:
        give_stock(ProductFactory(sku=sku), stock["SH1"], 5)
    for sku in skus[25:]:
        give_stock(ProductFactory(sku=sku), stock["BJ2"], 5)
    small = place(*[(sku, 1) for sku in skus[:5]], email="s@example.com").order
    big = place(*[(sku, 1) for sku in skus], email="b@example.com").order
    operations.get(reverse("orders:order_detail", args=[small.pk]))
    five = _queries_for(operations, reverse("orders:order_detail", args=[small.pk]))

    with django_assert_num_queries(five):
        response = operations.get(reverse("orders:order_detail", args=[big.pk]))

    assert len(response.context["detail"].lines) == 50


# --- create / edit form ---------------------------------------------------------------------
def _form_data(**overrides):
    data = {
        "channel": "phone", "customer_name": "Mei Chen", "customer_email": "mei@example.com",
        "customer_phone": "", "ship_name": "", "ship_line1": "88 Nanjing Rd", "ship_line2": "",
        "ship_city": "Shanghai", "ship_region": "", "ship_postal_code": "200001", "ship_country": "cn",
        "external_ref": "", "requested_date": "", "notes": "", "allow_backorder": "on",
        "lines-TOTAL_FORMS": "3", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "500",
        "lines-0-sku": "SKU-A", "lines-0-quantity": "3", "lines-0-unit_price": "",
        "lines-1-sku": "", "lines-1-quantity": "", "lines-1-unit_price": "",
        "lines-2-sku": "SKU-B", "lines-2-quantity": "1", "lines-2-unit_price": "3.99",
    }
    data.update(overrides)
    return data


def test_create_form_renders_with_phone_as_default_channel(operations, stock):
    response = operations.get(reverse("orders:order_create"))

    assert response.status_code == 200
    assert response.context["form"]["channel"].value() == "phone"
    codes = {channel.code for channel in response.context["form"].fields["channel"].queryset}
    assert codes == {"phone", "store"}
    assert b'id="lines-empty-form"' in response.content
    assert b"js/order_form.js" in response.content


def test_create_form_places_a_phone_order_through_the_service(operations, stock):
    response = operations.post(reverse("orders:order_create"), _form_data())

    order = SalesOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order_detail", args=[order.pk])
    assert order.channel.code == "phone" and order.status == "allocated"
    assert order.ship_to.country == "CN"
    lines = list(order.lines.order_by("line_no").values_list("product__sku", "quantity", "unit_price"))
    assert lines == [("SKU-A", 3, Decimal("10.00")), ("SKU-B", 1, Decimal("3.99"))]
    assert order.created_by is not None
    assert StockLevel.objects.get(product=stock["A"], warehouse=stock["SH1"]).reserved == 3


def test_create_form_reuses_an_existing_customer_by_email(operations, stock):
    existing = Customer.objects.create(name="Mei Chen", email="mei@example.com")

    operations.post(reverse("orders:order_create"), _form_data(customer_name="M. Chen"))

    assert SalesOrder.objects.get().customer == existing
    assert Customer.objects.count() == 1


def test_unknown_sku_is_shown_on_its_line(operations, stock):
    response = operations.post(reverse("orders:order_create"), _form_data(**{"lines-2-sku": "NOPE"}))

    assert response.status_code == 200
    formset = response.context["formset"]
    assert "Unknown SKU NOPE." in formset.forms[2].errors["sku"]
    assert not SalesOrder.objects.exists()


def test_too_little_stock_without_backorder_names_the_sku(operations, stock):
    data = _form_data(**{"lines-0-quantity": "50"})
    data.pop("allow_backorder")

    response = operations.post(reverse("orders:order_create"), data)

    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "SKU-A" in errors
    assert not SalesOrder.objects.exists()
    assert StockLevel.objects.get(product=stock["A"], warehouse=stock["SH1"]).reserved == 0


def test_form_needs_a_customer_and_a_line(operations, stock):
    data = _form_data(customer_name="", customer_email="", **{"lines-0-sku": "", "lines-0-quantity": "",
                                                              "lines-2-sku": "", "lines-2-quantity": "",
                                                              "lines-2-unit_price": ""})

    response = operations.post(reverse("orders:order_create"), data)

    assert response.status_code == 200
    assert "customer_email" in response.context["form"].errors
    assert response.context["formset"].non_form_errors()


def test_edit_form_changes_lines_and_address_through_modify_order(operations, stock):
    order = place(("SKU-A", 2)).order
    edit = reverse("orders:order_edit", args=[order.pk])
    page = operations.get(edit)
    assert page.status_code == 200
    assert page.context["formset"].forms[0]["sku"].value() == "SKU-A"
    data = _form_data(**{"lines-INITIAL_FORMS": "1", "lines-0-quantity": "5", "lines-2-sku": "", "lines-2-quantity": "",
                         "lines-2-unit_price": "", "ship_city": "Hangzhou"})

    response = operations.post(edit, data)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.ship_to.city == "Hangzhou"
    assert list(order.lines.values_list("quantity", flat=True)) == [5]
    assert order.customer.email == "ada@example.com"  # the customer is not editable
    assert StockLevel.objects.get(product=stock["A"], warehouse=stock["SH1"]).reserved == 5


def test_editing_a_shipped_order_is_refused_with_a_message(operations, stock):
    order = place(("SKU-A", 1)).order
    services.ship_order(order=order.pk)

    response = operations.get(reverse("orders:order_edit", args=[order.pk]))

    assert response.status_code == 302
    assert any("can no longer be changed" in t for t in messages_of(response))


def test_customer_lookup_finds_by_name_or_email(operations, stock):
    Customer.objects.create(name="Lin Wei", email="lin@example.com")
    Customer.objects.create(name="Other", email="other@example.com")

    by_name = operations.get(reverse("orders:customer_lookup"), {"customer_search": "lin w"}, HTTP_HX_REQUEST="true")
    by_email = operations.get(reverse("orders:customer_lookup"), {"customer_search": "other@"})

    assert [c.email for c in by_name.context["customers"]] == ["lin@example.com"]
    assert b'data-customer-email="lin@example.com"' in by_name.content
    assert [c.name for c in by_email.context["customers"]] == ["Other"]


def test_availability_endpoint_shows_available_per_warehouse_for_a_line_sku(operations, stock):
    place(("SKU-A", 4))

    response = operations.get(reverse("orders:sku_availability"), {"lines-3-sku": "SKU-A"}, HTTP_HX_REQUEST="true")
    unknown = operations.get(reverse("orders:sku_availability"), {"lines-0-sku": "ZZZ"})

    rows = {row.warehouse.code: row.available for row in response.context["rows"]}
    assert rows == {"SH1": 6, "BJ2": 0}
    assert b"SH1: 6" in response.content
    assert b"Unknown SKU ZZZ" in unknown.content


# --- public tracking ------------------------------------------------------------------------
def test_tracking_page_needs_no_login_and_shows_no_personal_data(client, stock):
    order = place(("SKU-A", 1), email="secret.person@example.com").order
    services.ship_order(order=order.pk)
    SalesOrder.objects.filter(pk=order.pk).update(cancel_reason="", notes="call Ada Li on 555")

    response = client.get(reverse("track", args=[order.tracking_token]))

    assert response.status_code == 200
    content = response.content.decode()
    assert order.number in content
    assert "Shanghai, CN" in content
    assert "Shipped" in content
    for private in ("Ada Li", "secret.person", "example.com", "1 Main St", "200000", "555"):
        assert private not in content
    assert response["Cache-Control"] == "no-store, private"


def test_tracking_page_for_an_unknown_token_is_404(client, db):
    assert client.get(reverse("track", args=["no-such-token"])).status_code == 404


# --- admin ----------------------------------------------------------------------------------
ADMIN_MODELS = ["channel", "customer", "address", "salesorder", "orderline", "allocation", "orderevent"]


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelist_and_change_pages_render(client, make_user, stock, model):
    order = place(("SKU-A", 1), ("SKU-C", 1)).order
    client.force_login(make_user(superuser=True))
    objects = {
        "channel": order.channel, "customer": order.customer, "address": order.ship_to, "salesorder": order,
        "orderline": order.lines.first(), "allocation": order.lines.first().allocations.first(),
        "orderevent": order.events.first(),
    }

    assert client.get(reverse(f"admin:orders_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:orders_{model}_change", args=[objects[model].pk])).status_code == 200


@pytest.mark.parametrize("model", ["salesorder", "orderline", "allocation", "orderevent"])
def test_admin_cannot_add_or_delete_orders_and_their_history(client, make_user, stock, model):
    client.force_login(make_user(superuser=True))

    assert client.get(reverse(f"admin:orders_{model}_add")).status_code == 403


def test_admin_cancel_action_asks_for_a_reason_then_calls_the_service(client, make_user, stock):
    order = place(("SKU-A", 2)).order
    shipped = place(("SKU-A", 1), email="x@example.com").order
    services.ship_order(order=shipped.pk)
    client.force_login(make_user(superuser=True))
    url = reverse("admin:orders_salesorder_changelist")
    selection = {"action": "cancel_orders", "_selected_action": [order.pk, shipped.pk]}

    form = client.post(url, selection)
    done = client.post(url, {**selection, "apply": "1", "reason": "duplicate"}, follow=True)

    assert form.status_code == 200 and b'name="reason"' in form.content
    order.refresh_from_db()
    assert order.status == "cancelled" and order.cancel_reason == "duplicate"
    texts = [str(m) for m in done.context["messages"]]
    assert any(shipped.number in t and "cannot be cancelled" in t for t in texts)
    assert StockLevel.objects.get(product=stock["A"], warehouse=stock["SH1"]).reserved == 0


def test_admin_allocate_action_calls_the_service(client, make_user, stock):
    waiting = place(("SKU-C", 1)).order
    give_stock(stock["C"], stock["BJ2"], 1)
    client.force_login(make_user(superuser=True))

    client.post(reverse("admin:orders_salesorder_changelist"),
                {"action": "allocate_orders", "_selected_action": [waiting.pk]})

    waiting.refresh_from_db()
    assert waiting.status == "allocated"


def test_admin_saving_notes_does_not_touch_status(client, make_user, stock):
    order = place(("SKU-A", 1)).order
    client.force_login(make_user(superuser=True))
    change = reverse("admin:orders_salesorder_change", args=[order.pk])
    page = client.get(change)
    SalesOrder.objects.filter(pk=order.pk).update(status="picking")  # a concurrent change meanwhile
    assert page.status_code == 200
    data = {"notes": "gift wrap"}
    data.update({
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
        "lines-0-id": str(OrderLine.objects.get(order=order).pk), "lines-0-order": str(order.pk),
        "events-TOTAL_FORMS": str(order.events.count()), "events-INITIAL_FORMS": str(order.events.count()),
        "events-MIN_NUM_FORMS": "0", "events-MAX_NUM_FORMS": "1000",
    })
    for index, event in enumerate(order.events.order_by("created_at", "id")):
        data[f"events-{index}-id"] = str(event.pk)
        data[f"events-{index}-order"] = str(order.pk)

    response = client.post(change, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert order.notes == "gift wrap" and order.status == "picking"


# --- dashboard ------------------------------------------------------------------------------
def test_order_tiles_are_registered_for_the_orders_section():
    fills = [(filler.function, dict(filler.options)) for filler in DASHBOARD_TILES.fillers()]
    assert (dashboard_tiles, {"section": "orders"}) in fills


def test_order_tiles_count_open_backordered_and_held_orders(stock):
    place(("SKU-C", 1))
    held = place(("SKU-A", 1), email="held@example.com").order
    services.hold_order(order=held.pk, reason="check")

    tiles = {tile["label"]: tile["value"] for tile in dashboard_tiles(None)}

    assert tiles["Open orders"] == 2
    assert tiles["Backordered"] == 1
    assert tiles["On hold"] == 1
    assert tiles["Shipped today"] == 0


def test_tile_counts_stop_at_the_cap(stock):
    for i in range(3):
        place(("SKU-C", 1), email=f"cap{i}@example.com")

    assert capped_count(SalesOrder.objects.all(), cap=2) == "2+"
    assert capped_count(SalesOrder.objects.all(), cap=3) == 3
