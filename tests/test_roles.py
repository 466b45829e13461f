"""Each role reaches exactly the portal sections core.roles gives it; everyone else gets 403."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core import roles

SECTION_URL_NAMES = {
    "orders": "orders:index",
    "inventory": "inventory:index",
    "purchasing": "suppliers:index",
    "logistics": "logistics:index",
    "analytics": "analytics:index",
    "integrations": "integrations:index",
}
ROLE_SECTION_CASES = [
    (role, section, section in roles.ROLE_PERMISSIONS[role]["sections"])
    for role in roles.ROLE_NAMES
    for section in SECTION_URL_NAMES
]


def test_every_role_group_exists_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_NAMES)


def test_role_section_mapping_matches_the_issue():
    # The mapping itself, stated once more so a change to core.roles is a deliberate one.
    sections = {role: set(spec["sections"]) for role, spec in roles.ROLE_PERMISSIONS.items()}

    assert sections[roles.ANALYST] == set(SECTION_URL_NAMES)
    assert sections[roles.OPERATIONS] == set(SECTION_URL_NAMES)
    assert sections[roles.WAREHOUSE] == {"orders", "inventory", "purchasing", "logistics"}
    assert sections[roles.PURCHASING] == {"inventory", "purchasing", "analytics"}
    assert sections[roles.SUPPLIER] == {"purchasing"}


@pytest.mark.parametrize(("role", "section", "allowed"), ROLE_SECTION_CASES)
def test_role_reaches_only_its_sections(client, make_user, role, section, allowed):
    client.force_login(make_user(role))

    # A section's index may redirect to its landing page (e.g. purchasing → replenishment).
    response = client.get(reverse(SECTION_URL_NAMES[section]), follow=True)

    if allowed:
        assert response.status_code == 200
        assert not [url for url, _status in response.redirect_chain if url.startswith("/accounts/login/")]
    else:
        assert response.status_code == 403
        assert response.redirect_chain == []


@pytest.mark.parametrize("role", roles.ROLE_NAMES)
def test_every_role_sees_the_dashboard_with_only_its_navigation(client, make_user, role):
    client.force_login(make_user(role))

    response = client.get(reverse("core:dashboard"))

    assert response.status_code == 200
    shown = {item["section"] for item in response.context["nav_items"]}
    assert shown == set(roles.ROLE_PERMISSIONS[role]["sections"])
    assert response.context["nav_show_admin"] is False


def test_user_without_a_role_is_denied_every_section(client, make_user):
    client.force_login(make_user())

    statuses = {section: client.get(reverse(name)).status_code for section, name in SECTION_URL_NAMES.items()}

    assert set(statuses.values()) == {403}


def test_analyst_is_read_only_everywhere(analyst_user):
    codenames = set(analyst_user.get_all_permissions())
    model_actions = {perm.split(".")[1].split("_")[0] for perm in codenames if not perm.startswith("core.access_")}

    assert model_actions <= {"view"}


def test_supplier_may_only_view_and_acknowledge_purchase_orders(supplier_user):
    model_permissions = {perm for perm in supplier_user.get_all_permissions() if not perm.startswith("core.access_")}

    assert model_permissions == {"suppliers.view_purchaseorder", "suppliers.acknowledge_purchaseorder"}


def test_superuser_sees_every_section_and_the_admin_link(admin_client):
    response = admin_client.get(reverse("core:dashboard"))

    assert {item["section"] for item in response.context["nav_items"]} == set(SECTION_URL_NAMES)
    assert response.context["nav_show_admin"] is True
    assert reverse("admin:index") in response.content.decode()


@pytest.mark.parametrize("url_name", ["core:dashboard", *SECTION_URL_NAMES.values()])
def test_anonymous_visitor_is_redirected_to_login(client, db, url_name):
    url = reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_forbidden_page_renders_the_portal_403_template(client, supplier_user):
    client.force_login(supplier_user)

    response = client.get(reverse("orders:index"))

    assert response.status_code == 403
    assert "403.html" in [template.name for template in response.templates]
    assert "Permission denied" in response.content.decode()
    assert 'id="main-nav"' in response.content.decode()  # inside the portal layout


def test_unknown_page_renders_the_portal_404_template(client, operations_user):
    client.force_login(operations_user)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "404.html" in [template.name for template in response.templates]
    assert "Page not found" in response.content.decode()


def test_unknown_page_for_anonymous_visitor_is_404_not_a_crash(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_migrate_gives_role_groups_the_permissions_of_apps_listed_after_core(db):
    # Given a database whose domain-app permissions do not exist yet, as on a fresh migrate
    from django.contrib.auth.models import Permission
    from django.core.management.sql import emit_post_migrate_signal

    Permission.objects.exclude(content_type__app_label__in=["core", "auth", "contenttypes"]).delete()

    # When migrate finishes (it sends post_migrate once per app, in INSTALLED_APPS order)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    # Then every role group holds exactly its mapped permissions, domain apps included
    for role in roles.ROLE_NAMES:
        group = Group.objects.get(name=role)
        assert set(group.permissions.all()) == set(roles.permissions_for_role(role)), role
    operations_apps = set(
        Group.objects.get(name=roles.OPERATIONS).permissions.values_list("content_type__app_label", flat=True)
    )
    assert {"orders", "inventory", "suppliers"} <= operations_apps
