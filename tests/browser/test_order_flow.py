"""A phone order in a real browser: log in as Operations, place it through the form (customer
lookup and live availability over HTMX), find it in the list, cancel it with a reason, and see the
reserved stock available again on the product page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.demo import DEMO_PASSWORD
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders.models import Customer, SalesOrder
from orders.tests.factories import ChannelFactory
from tests.browser.conftest import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(make_user):
    ChannelFactory(code="phone", kind="phone", name="Phone")
    ChannelFactory(code="web", kind="web", name="Web shop")
    warehouse = WarehouseFactory(code="SH1", name="Shanghai", priority=1)
    product = ProductFactory(sku="SKU-BR1", name="Browser kettle", list_price=Decimal("88.00"))
    give_stock(product, warehouse, 10)
    Customer.objects.create(name="Lin Wei", email="lin.wei@example.com", phone="+86 21 5555 0101")
    make_user("Operations", username="ops")
    return {"product": product, "warehouse": warehouse}


def test_operations_places_a_phone_order_finds_it_cancels_it_and_sees_the_stock_back(page, shop, console_messages):
    # Given an Operations user who opens the order form and logs in through the login form
    page.goto("/orders/new/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/orders/new/$"))
    page.fill("#id_username", "ops")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")

    # When they pick an existing customer through the HTMX lookup
    expect(page).to_have_url(re.compile(r"/orders/new/$"))
    expect(page.locator("#id_channel")).to_have_value("phone")
    page.locator("#customer-search").press_sequentially("lin w", delay=30)
    page.locator("#customer-results").get_by_role("button", name=re.compile("Lin Wei")).click()
    expect(page.locator("#id_customer_email")).to_have_value("lin.wei@example.com")

    # And type a line: the live availability shows what each warehouse has
    page.fill("#id_ship_line1", "500 Century Ave")
    page.fill("#id_ship_city", "Shanghai")
    page.fill("#id_ship_postal_code", "200120")
    page.locator("#id_lines-0-sku").press_sequentially("SKU-BR1", delay=20)
    expect(page.locator("#lines-rows .line-availability").first).to_contain_text("SH1: 10")
    page.fill("#id_lines-0-quantity", "4")
    page.click("#add-line")
    expect(page.locator("#id_lines-1-sku")).to_be_visible()
    page.click("#save-order")

    # Then the order is placed and allocated
    expect(page.locator("#order-status")).to_contain_text("Allocated")
    number = page.locator("h1").inner_text().strip()
    assert re.fullmatch(r"SO-\d{7}", number)
    order = SalesOrder.objects.get(number=number)
    assert order.channel.code == "phone" and order.customer.email == "lin.wei@example.com"

    # And it is in the orders list, also when searched for by customer
    page.goto("/orders/")
    expect(page.locator(".order-table")).to_contain_text(number)
    page.fill("#id_q", "lin.wei")
    page.locator("#order-filter button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"q=lin\.wei"))
    expect(page.locator(".order-table tbody tr")).to_have_count(1)

    # When they open it and cancel it with a reason (confirming the dialog)
    page.locator(".order-table").get_by_role("link", name=number).click()
    page.fill("#cancel-reason", "customer changed their mind")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-order")

    # Then it is cancelled, with the reason on its timeline
    expect(page.locator("#order-status")).to_contain_text("Cancelled")
    expect(page.locator("#order-timeline")).to_contain_text("customer changed their mind")

    # And the product page shows the ten units available again
    page.goto(f"/inventory/products/{shop['product'].pk}/")
    row = page.locator('#stock-by-warehouse tr[data-warehouse="SH1"]')
    expect(row.locator(".reserved")).to_have_text("0")
    expect(row.locator(".available")).to_have_text("10")

    # And nothing was blocked by the Content-Security-Policy or failed in the page's scripts
    assert console_errors(console_messages) == []
