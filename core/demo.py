"""Demo users for `seed_demo`: an admin and one user per role. Domain apps add their data through
core.hooks.DEMO_SEEDERS."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core import roles

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"  # noqa: S105 — the printed demo login
DEMO_PASSWORD = "demo-pass-123"  # noqa: S105
ROLE_USERS = {
    "operations": roles.OPERATIONS,
    "warehouse": roles.WAREHOUSE,
    "purchasing": roles.PURCHASING,
    "analyst": roles.ANALYST,
    "supplier": roles.SUPPLIER,
}

@transaction.atomic
def seed_users() -> None:
    user_model = get_user_model()
    roles.sync_roles()
    admin, created = user_model.objects.get_or_create(
        username=ADMIN_USERNAME,
        defaults={"email": "admin@example.com", "is_staff": True, "is_superuser": True},
    )
    if created:
        admin.set_password(ADMIN_PASSWORD)
        admin.save()
    for username, role in ROLE_USERS.items():
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role))


def seed_exchange_rates() -> None:
    """A few rates to the base currency, so offers in other currencies can be compared."""
    from datetime import date
    from decimal import Decimal

    from core.models import ExchangeRate

    for currency, rate in (("USD", "7.2000"), ("EUR", "7.8000"), ("JPY", "0.0480")):
        if currency != settings.BASE_CURRENCY:
            ExchangeRate.objects.get_or_create(
                currency=currency, valid_from=date(2026, 1, 1), defaults={"rate": Decimal(rate)}
            )
