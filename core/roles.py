"""The portal roles and the permissions each one holds — the one place that says who may do what.

Groups are created by migration core.0002; this mapping is applied after every migrate (and by
`python3 -m scoms manage sync_roles`) because model permissions only exist once all apps have migrated.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

OPERATIONS = "Operations"
WAREHOUSE = "Warehouse"
PURCHASING = "Purchasing"
ANALYST = "Analyst"
SUPPLIER = "Supplier"
ROLE_NAMES = [OPERATIONS, WAREHOUSE, PURCHASING, ANALYST, SUPPLIER]

ALL = ("view", "add", "change", "delete")
EDIT = ("view", "add", "change")
VIEW = ("view",)
# The custom per-action permissions of suppliers.PurchaseOrder (suppliers/permissions.py).
PURCHASE_ORDER_ACTIONS = ("send", "cancel", "receive", "acknowledge")
DOMAIN_APPS = ("orders", "inventory", "suppliers", "logistics", "analytics", "integrations")

# role -> {"sections": [...], "apps": {app_label: actions}, "models": {"app.model": actions}}
ROLE_PERMISSIONS: dict[str, dict[str, Any]] = {
    OPERATIONS: {
        "sections": ["orders", "inventory", "purchasing", "logistics", "analytics", "integrations"],
        "apps": {"orders": ALL, "inventory": VIEW, "suppliers": VIEW, "logistics": EDIT,
                 "analytics": VIEW, "integrations": VIEW},
        "models": {"orders.salesorder": ("fulfil",)},
    },
    WAREHOUSE: {
        "sections": ["orders", "inventory", "purchasing", "logistics"],
        "apps": {"orders": VIEW, "inventory": EDIT, "suppliers": VIEW, "logistics": EDIT},
        # receive purchase orders without sending, cancelling or acknowledging them; fulfil
        # (pick, ship, deliver) sales orders without the right to edit, hold or cancel them
        "models": {"suppliers.purchaseorder": ("view", "receive"), "orders.salesorder": ("fulfil",)},
    },
    PURCHASING: {
        "sections": ["inventory", "purchasing", "analytics"],
        "apps": {"suppliers": ALL, "inventory": VIEW, "orders": VIEW, "analytics": VIEW},
        "models": {
            "suppliers.purchaseorder": PURCHASE_ORDER_ACTIONS,
            # the rates the planner compares offers in other currencies with
            "core.exchangerate": EDIT,
        },
    },
    ANALYST: {
        "sections": ["orders", "inventory", "purchasing", "logistics", "analytics", "integrations"],
        "apps": dict.fromkeys(DOMAIN_APPS, VIEW),
    },
    SUPPLIER: {
        # Object-level checks limit them to their own supplier's purchase orders (never drafts).
        "sections": ["purchasing"],
        "models": {"suppliers.purchaseorder": ("view", "acknowledge")},
    },
}


def permissions_for_role(role: str) -> Any:
    spec = ROLE_PERMISSIONS[role]
    query = Q(content_type__app_label="core", codename__in=[f"access_{s}" for s in spec["sections"]])
    for app_label, actions in spec.get("apps", {}).items():
        for action in actions:
            query |= Q(content_type__app_label=app_label, codename__startswith=f"{action}_")
    for dotted, actions in spec.get("models", {}).items():
        app_label, model = dotted.split(".")
        query |= Q(
            content_type__app_label=app_label,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    return Permission.objects.filter(query)


def sync_roles() -> None:
    """Create the role groups if missing and set their permissions to exactly the mapping."""
    for role in ROLE_NAMES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions_for_role(role))


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate receiver (any sender): sync once the last app's permissions exist.

    Django sends post_migrate once per app with models, in INSTALLED_APPS order, and creates
    each app's permissions in that app's turn — so syncing on core's turn would miss every
    model permission of the apps listed after core (inventory, orders, …).
    """
    if kwargs.get("using", "default") != "default":
        return
    from django.apps import apps

    last_app = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if sender.label != last_app.label:
        return
    sync_roles()
