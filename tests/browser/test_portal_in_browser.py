"""The portal in a real browser: log in through the form, use the navigation, log out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import console_errors

pytestmark = pytest.mark.browser

SECTION_LINKS = ["Orders", "Inventory", "Purchasing", "Logistics", "Analytics", "Integrations", "Admin"]


def test_admin_logs_in_sees_dashboard_and_navigation_then_logs_out(page, admin_user, console_messages):
    # Given the login page (an anonymous visit to the dashboard is sent there)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))

    # When the admin logs in through the form
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("button[type=submit]")

    # Then the dashboard shows with every section in the navigation
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    navigation = page.get_by_role("navigation", name="Main navigation")
    for label in SECTION_LINKS:
        expect(navigation.get_by_role("link", name=label)).to_be_visible()

    # And a section opens from the navigation
    navigation.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()

    # When the admin logs out from the user menu (a Bootstrap dropdown: needs its JavaScript)
    page.click("#user-menu")
    page.get_by_role("button", name="Log out").click()

    # Then the login page is back, and nothing was blocked by the Content-Security-Policy
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    assert console_errors(console_messages) == []
    texts = [str(getattr(message, "text", message)) for message in console_messages]
    assert not [text for text in texts if "Content Security Policy" in text]


def test_phone_width_collapses_the_navigation_behind_a_toggle(page, admin_user):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("button[type=submit]")

    navigation = page.get_by_role("navigation", name="Main navigation")
    expect(navigation.get_by_role("link", name="Orders")).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    expect(navigation.get_by_role("link", name="Orders")).to_be_visible()
