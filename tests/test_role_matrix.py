"""R20: every role (plus a supplier login, a user without a role and an administrator) by every
consequential action of every resource, through the portal, the API and the admin.

- The README's "Who may do what" table is exactly what core/roles.py grants: widening a role
  fails here.
- Each endpoint lets a user through exactly when the user's role (core/roles.py) holds the
  permission tests/role_matrix.py says it needs, and a refused call changes nothing: a view that
  checks a weaker permission fails here.
- Every route that accepts a state-changing method, every action slug and every admin action has
  a row: an action added without one fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import resolve
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import roles
from core.permissions import section_permission
from tests.factories import UserFactory
from tests.role_matrix import (
    ACTIONS,
    ADMIN,
    API,
    PORTAL,
    STATE_APPS,
    Action,
    Endpoint,
    World,
    build_world,
    draft_po,
    partially_received_po,
    planner_suggestion,
    sent_po,
    state_fingerprint,
)
from tests.url_discovery import path_for, routes

ROOT = Path(__file__).resolve().parent.parent
SUPERUSER, NO_ROLE = "administrator", "no role"
USER_KINDS = [*roles.ROLE_NAMES, NO_ROLE, SUPERUSER]
ALLOWED = {PORTAL: {302}, API: {200, 201}, ADMIN: {302}}
# The admin answers an action the user may not run with the change list again, and no change.
REFUSED = {PORTAL: {403, 404}, API: {403, 404}, ADMIN: {200, 302, 403}}


def applies(kind: str, endpoint: Endpoint) -> bool:
    # Supplier logins are never staff: the admin does not scope purchase orders by supplier.
    return not (kind == roles.SUPPLIER and endpoint.channel == ADMIN)


def granted(role: str) -> set[str]:
    """What core/roles.py gives the role, as "app_label.codename"."""
    return {f"{app}.{codename}" for app, codename in
            roles.permissions_for_role(role).values_list("content_type__app_label", "codename")}


class _AnyIds(dict):
    def __missing__(self, key: str) -> SimpleNamespace:
        return SimpleNamespace(pk=1)


def portal_section(endpoint: Endpoint) -> str | None:
    """The section a portal view checks (core.permissions.portal_view marks its views)."""
    return getattr(resolve(endpoint.path(_AnyIds())).func, "portal_section", None)


def may(kind: str, action: Action, endpoint: Endpoint) -> bool:
    """Whether this kind of user may call the endpoint, from core/roles.py and the table alone."""
    if kind == SUPERUSER:
        return True
    if kind == NO_ROLE or (kind == roles.SUPPLIER and not action.suppliers):
        return False
    permissions = granted(kind)
    if endpoint.channel == PORTAL and section_permission(portal_section(endpoint)) not in permissions:
        return False
    return any(need in permissions for need in endpoint.needs)


CASES = [
    pytest.param(kind, action, endpoint, id=f"{kind} | {action.key} | {endpoint.label}")
    for action in ACTIONS for endpoint in action.endpoints for kind in USER_KINDS if applies(kind, endpoint)
]


@pytest.fixture
def world(db) -> World:
    roles.sync_roles()  # the groups hold exactly what core/roles.py says, even on a reused database
    return build_world()


def user_of(kind: str, world: World, *, staff: bool = False):
    if kind == SUPERUSER:
        return UserFactory(is_superuser=True, is_staff=True)
    user = UserFactory(roles=[] if kind == NO_ROLE else [kind], is_staff=staff)
    if kind == roles.SUPPLIER:
        from suppliers import services

        services.supplier_user_link(user=user, supplier=world.supplier)
    return user


def client_for(user, channel: str):
    if channel == API:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client
    client = Client()
    client.force_login(user)
    return client


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


# --- the README table is what core/roles.py grants ---------------------------------------------
def readme_table() -> tuple[list[str], list[tuple[str, set[str], set[str]]]]:
    """(role columns, [(resource: action, permissions named, roles marked ✓)]) of the README's
    "Who may do what" table."""
    _before, found, section = (ROOT / "README.md").read_text(encoding="utf-8").partition("### Who may do what")
    assert found, "README.md has no '### Who may do what' table"
    lines: list[str] = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            lines.append(line)
        elif lines:
            break
    header, _rule, *rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    columns = header[3:]
    return columns, [
        (f"{cells[0]}: {cells[1]}", set(re.findall(r"`([\w.]+)`", cells[2])),
         {role for role, mark in zip(columns, cells[3:], strict=True) if mark.startswith("✓")})
        for cells in rows
    ]


def test_readme_table_has_a_column_per_role_and_a_row_per_action():
    columns, rows = readme_table()

    assert columns == roles.ROLE_NAMES
    assert [key for key, _perms, _roles in rows] == [action.key for action in ACTIONS]


def test_readme_table_names_the_permissions_each_action_checks():
    _columns, rows = readme_table()
    named = {key: permissions for key, permissions, _roles in rows}

    for action in ACTIONS:
        assert named[action.key] == {need for endpoint in action.endpoints for need in endpoint.needs}, action.key


def test_core_roles_grant_exactly_what_the_readme_table_says(world):
    _columns, rows = readme_table()
    marked = {key: allowed for key, _perms, allowed in rows}
    problems = []

    for action in ACTIONS:
        for role in roles.ROLE_NAMES:
            for endpoint in action.endpoints:
                if applies(role, endpoint) and may(role, action, endpoint) != (role in marked[action.key]):
                    problems.append(f"{role} {'may' if may(role, action, endpoint) else 'may not'} "
                                    f"{action.key} via {endpoint.label}; the README says the opposite")

    assert problems == [], "\n".join(problems)


def test_every_permission_core_roles_names_exists(db):
    missing = []
    for role, spec in roles.ROLE_PERMISSIONS.items():
        for dotted, actions in spec.get("models", {}).items():
            app_label, model = dotted.split(".")
            for action in actions:
                if not Permission.objects.filter(content_type__app_label=app_label, codename=f"{action}_{model}").exists():
                    missing.append(f"{role}: {app_label}.{action}_{model}")

    assert missing == []


def test_every_custom_permission_is_checked_by_a_row_of_the_matrix():
    declared = {
        f"{model._meta.app_label}.{codename}"
        for model in apps.get_models() if model._meta.app_label in STATE_APPS
        for codename, _name in model._meta.permissions if not codename.startswith("access_")
    }
    checked = {need for action in ACTIONS for endpoint in action.endpoints for need in endpoint.needs}

    assert declared - checked == set()


def test_every_portal_row_names_a_view_that_checks_a_section():
    unmarked = [endpoint.label for action in ACTIONS for endpoint in action.endpoints
                if endpoint.channel == PORTAL and portal_section(endpoint) is None]

    assert unmarked == []


# --- no action escapes the table ---------------------------------------------------------------
# Django's own admin and authentication pages; the admin actions we add have rows of their own.
# api/(?P<path>.*) is the JSON 404 for any unknown API URL (core.views.api_not_found).
NOT_RESOURCES = ("admin/", "accounts/", "api/(?P<path>")


def test_every_route_that_accepts_a_state_changing_method_has_a_row(client, db):
    administrator = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(administrator)
    api = APIClient()
    api.force_authenticate(administrator)
    portal_rows = {e.url_name for a in ACTIONS for e in a.endpoints if e.channel == PORTAL}
    api_rows = {(e.url_name, e.method) for a in ACTIONS for e in a.endpoints if e.channel == API}
    problems, checked = [], 0

    for name, regex, params in routes():
        path = path_for(regex, params, "1")
        if path is None or "format" in params or regex.startswith(NOT_RESOURCES):
            continue  # a format suffix (…/.json) reaches the same view as its route without one
        for method in ("post", "put", "patch", "delete"):
            is_api = path.startswith("/api/")
            if (name, method) in api_rows if is_api else name in portal_rows:
                continue
            checked += 1
            status = getattr(api if is_api else client, method)(path).status_code
            if status != 405:
                problems.append(f"{method.upper()} {path} ({name}) → {status}: add a row to tests/role_matrix.py")

    assert checked > 50, "route discovery found too few routes"
    assert problems == [], "\n".join(problems)


def test_every_action_slug_and_admin_action_has_a_row():
    from orders.forms import BulkActionForm
    from orders.views import ORDER_ACTIONS
    from suppliers.admin import PurchaseOrderAdmin
    from suppliers.permissions import PORTAL_ACTIONS

    def slugs(url_name: str) -> set[str]:
        return {e.slug for a in ACTIONS for e in a.endpoints if e.url_name == url_name}

    assert slugs("orders:order_action") == set(ORDER_ACTIONS)
    assert slugs("orders:order_bulk_action") == {value for value, _label in BulkActionForm.ACTIONS}
    assert slugs("suppliers:purchase_order_action") == set(PORTAL_ACTIONS)
    assert slugs("admin:suppliers_purchaseorder_changelist") == set(PurchaseOrderAdmin.actions)


# --- every user kind, every action, every endpoint --------------------------------------------
@pytest.mark.parametrize(("kind", "action", "endpoint"), CASES)
def test_a_user_may_run_an_action_exactly_when_its_role_holds_the_permission(world, kind, action, endpoint):
    # Given the state the action needs and a user of this kind
    target = action.prepare(world)
    client = client_for(user_of(kind, world, staff=endpoint.channel == ADMIN), endpoint.channel)
    before = state_fingerprint()

    # When the user calls the endpoint
    call = getattr(client, endpoint.method)
    data = endpoint.data(world, target)
    response = call(endpoint.path(target), data, format="json") if endpoint.channel == API else call(
        endpoint.path(target), data)

    # Then it did the work exactly when the role allows it; a refusal changed nothing
    after = state_fingerprint()
    if may(kind, action, endpoint):
        assert response.status_code in ALLOWED[endpoint.channel], response.content.decode()[:2000]
        assert changed_tables(before, after), "allowed, but nothing changed"
    else:
        assert response.status_code in REFUSED[endpoint.channel]
        assert changed_tables(before, after) == []


# --- pages show only the buttons the user may use -----------------------------------------------
def _portal_endpoint(key: str, url_name: str) -> tuple[Action, Endpoint]:
    action = next(action for action in ACTIONS if action.key == key)
    return action, next(e for e in action.endpoints if e.channel == PORTAL and e.url_name == url_name)


PO_ACTION, ACKNOWLEDGE = "suppliers:purchase_order_action", "suppliers:purchase_order_acknowledge"
# page (prepare, url name) -> [(action key, its portal endpoint, what shows its button: None = the endpoint's URL)]
BUTTONS = [
    (draft_po, "suppliers:purchase_order_detail", [
        ("purchase orders: approve and send", PO_ACTION, None), ("purchase orders: cancel", PO_ACTION, None)]),
    (sent_po, "suppliers:purchase_order_detail", [
        ("purchase orders: e-mail again", PO_ACTION, None), ("purchase orders: cancel", PO_ACTION, None),
        ("purchase orders: receive goods", "suppliers:purchase_order_receive", None),
        ("purchase orders: acknowledge", ACKNOWLEDGE, "Acknowledge order and confirm dates</button>")]),
    (partially_received_po, "suppliers:purchase_order_detail", [
        ("purchase orders: close", PO_ACTION, None),
        ("purchase orders: confirm delivery dates", ACKNOWLEDGE, "Confirm dates</button>")]),
    (planner_suggestion, "suppliers:suggestion_list", [
        ("replenishment: approve suggestions", "suppliers:suggestion_approve", None),
        ("replenishment: change suggested quantities", "suppliers:suggestion_line_quantity", None),
        ("replenishment: run the planner", "suppliers:replenishment_run", None)]),
]


@pytest.mark.parametrize("kind", USER_KINDS)
def test_purchasing_pages_show_only_the_buttons_the_user_may_use(world, kind):
    from django.urls import reverse

    client = client_for(user_of(kind, world), PORTAL)
    problems = []
    for prepare, page, buttons in BUTTONS:
        target = prepare(world)
        response = client.get(reverse(page, args=[target["po"].pk] if page.endswith("_detail") else []))
        html = response.content.decode()
        for key, url_name, marker in buttons:
            action, endpoint = _portal_endpoint(key, url_name)
            expected = may(kind, action, endpoint)
            shown = response.status_code == 200 and (marker or f'"{endpoint.path(target)}"') in html
            if shown != expected:
                problems.append(f"{page} ({target['po'].status}): {key} {'shown' if shown else 'hidden'}")

    assert problems == [], "\n".join(problems)
