"""Fulfilment permission: warehouse staff pick, ship and deliver orders from the detail page, but
only `change_salesorder` edits, confirms, allocates, holds, closes or cancels them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from core import roles
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders import services
from orders.tests.factories import place
from tests.browser.conftest import browser  # noqa: F401 — the chromium fixture

FULFIL = "orders.fulfil_salesorder"


@pytest.fixture
def allocated_order(db):
    """An order of 2 x SKU-F, allocated from the 5 units in SH1."""
    give_stock(ProductFactory(sku="SKU-F"), WarehouseFactory(code="SH1"), 5)
    return place(("SKU-F", 2)).order


def action_url(order, action: str) -> str:
    return reverse("orders:order_action", args=[order.pk, action])


def detail_of(client, order):
    return client.get(reverse("orders:order_detail", args=[order.pk]))


def test_the_permission_exists_and_operations_and_warehouse_hold_it(make_user):
    assert Permission.objects.filter(content_type__app_label="orders", codename="fulfil_salesorder").exists()
    holders = {role for role in roles.ROLE_NAMES if make_user(role).has_perm(FULFIL)}

    assert holders == {roles.OPERATIONS, roles.WAREHOUSE}
    assert not Group.objects.get(name=roles.WAREHOUSE).permissions.filter(codename="change_salesorder").exists()


def test_warehouse_sees_only_the_fulfilment_buttons(client, make_user, allocated_order):
    client.force_login(make_user(roles.WAREHOUSE))

    response = detail_of(client, allocated_order)

    assert response.status_code == 200
    assert response.context["actions"] == {"pick", "ship"}
    content = response.content.decode()
    assert action_url(allocated_order, "ship") in content and action_url(allocated_order, "pick") in content
    assert 'id="cancel-form"' not in content and 'id="hold-form"' not in content
    assert reverse("orders:order_edit", args=[allocated_order.pk]) not in content


def test_warehouse_can_pick_ship_and_mark_delivered(client, make_user, allocated_order):
    client.force_login(make_user(roles.WAREHOUSE))

    for action, status in [("pick", "picking"), ("ship", "shipped"), ("deliver", "delivered")]:
        response = client.post(action_url(allocated_order, action))
        assert response.status_code == 302, action
        allocated_order.refresh_from_db()
        assert allocated_order.status == status, action

    # Closing a delivered order is office work: no button, and refused when posted.
    assert detail_of(client, allocated_order).context["actions"] == frozenset()
    assert client.post(action_url(allocated_order, "close")).status_code == 403
    allocated_order.refresh_from_db()
    assert allocated_order.status == "delivered"


@pytest.mark.parametrize(("action", "data"), [
    ("cancel", {"reason": "not mine to cancel"}), ("hold", {"reason": "no"}), ("allocate", {}),
    ("confirm", {}), ("release", {}), ("close", {}), ("no-such-action", {}),
])
def test_warehouse_cannot_cancel_hold_or_run_office_actions(client, make_user, allocated_order, action, data):
    client.force_login(make_user(roles.WAREHOUSE))

    response = client.post(action_url(allocated_order, action), data)

    assert response.status_code == 403
    allocated_order.refresh_from_db()
    assert allocated_order.status == "allocated"


def test_warehouse_cannot_edit_an_order(client, make_user, allocated_order):
    client.force_login(make_user(roles.WAREHOUSE))
    url = reverse("orders:order_edit", args=[allocated_order.pk])

    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403
    assert client.post(reverse("orders:order_bulk_action"), {"action": "cancel", "ids": [allocated_order.pk],
                                                            "reason": "x"}).status_code == 403
    allocated_order.refresh_from_db()
    assert allocated_order.status == "allocated"


@pytest.mark.parametrize("action", ["pick", "ship", "deliver", "cancel"])
def test_analyst_can_neither_fulfil_nor_cancel(client, make_user, allocated_order, action):
    if action == "deliver":
        services.ship_order(order=allocated_order.pk)
    allocated_order.refresh_from_db()
    before = allocated_order.status
    client.force_login(make_user(roles.ANALYST))

    response = client.post(action_url(allocated_order, action), {"reason": "x"})

    assert response.status_code == 403
    allocated_order.refresh_from_db()
    assert allocated_order.status == before
    assert detail_of(client, allocated_order).context["actions"] == frozenset()


def test_change_permission_alone_still_fulfils(client, make_user, allocated_order):
    # A custom group with `change_salesorder` but no fulfil permission: change implies fulfil.
    user = make_user(roles.ANALYST)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="change_salesorder"))
    client.force_login(user)

    assert client.post(action_url(allocated_order, "ship")).status_code == 302
    allocated_order.refresh_from_db()
    assert allocated_order.status == "shipped"


def test_operations_keeps_every_action(client, make_user, allocated_order):
    client.force_login(make_user(roles.OPERATIONS))

    assert detail_of(client, allocated_order).context["actions"] == {"hold", "pick", "ship", "cancel", "edit"}
    assert client.post(action_url(allocated_order, "cancel"), {"reason": "customer called"}).status_code == 302
    allocated_order.refresh_from_db()
    assert allocated_order.status == "cancelled"


# --- in a real browser, on a phone-sized screen ------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_warehouse_fulfils_an_order_on_a_phone(browser, live_server, make_user):  # noqa: F811
    from playwright.sync_api import expect

    # Given an allocated order and a Warehouse user on a 390 px wide screen
    give_stock(ProductFactory(sku="SKU-PHONE"), WarehouseFactory(code="SH1"), 5)
    order = place(("SKU-PHONE", 2)).order
    make_user(roles.WAREHOUSE, username="picker", password="pw-Test-12345")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"/accounts/login/?next=/orders/{order.pk}/")
        page.fill("#id_username", "picker")
        page.fill("#id_password", "pw-Test-12345")
        page.click("button[type=submit]")

        # When they start picking, ship and mark the order delivered from its page
        for action, status in [("pick", "Picking"), ("ship", "Shipped"), ("deliver", "Delivered")]:
            page.click(f'button[data-action="{action}"]')
            expect(page.locator("#order-status")).to_contain_text(status)
            # the lines are readable without sideways scrolling, and nothing cancels or edits
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            expect(page.locator("#order-lines-compact")).to_be_visible()
            expect(page.locator("#cancel-form")).to_have_count(0)

        # Then the order is delivered and the line shows its shipped units
        expect(page.locator("#order-lines-compact")).to_contain_text("SKU-PHONE")
    finally:
        context.close()
    order.refresh_from_db()
    assert order.status == "delivered"
