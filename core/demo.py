"""Demo users for `seed_demo`: an admin and one user per role. Domain apps add their data through
core.hooks.DEMO_SEEDERS."""

from __future__ import annotations

from collections.abc import Iterable

from celery.app.task import Task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core import roles
from core.models import OutboxMessage

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


def settle_outbox(since_id: int, tasks: Iterable[Task] | None = None) -> int:
    """Mark the outbox messages seeding caused as processed (demo history, nothing to do).

    Only messages newer than `since_id` (of these tasks; None: of any task — e.g. what a higher
    app's hook enqueued, which a lower app's seeder cannot name) are touched; seeding runs before
    the site takes traffic, so those are ours.
    """
    messages = OutboxMessage.objects.filter(pk__gt=since_id, processed_at__isnull=True)
    if tasks is not None:
        messages = messages.filter(task_name__in=[task.name for task in tasks])
    return messages.update(processed_at=timezone.now(), last_error="seed_demo: demo history, not run")


def outbox_high_water_mark() -> int:
    """The newest outbox message id (0 when there is none): a seeder's `since_id`."""
    return OutboxMessage.objects.aggregate(top=Max("pk"))["top"] or 0
