"""The order status vocabulary, its transition table, groups and badge colours — in one place."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    ALLOCATED = "allocated", _("Allocated")
    PARTIALLY_ALLOCATED = "partially_allocated", _("Partially allocated")
    BACKORDERED = "backordered", _("Backordered")
    PICKING = "picking", _("Picking")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CLOSED = "closed", _("Closed")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


S = OrderStatus
# Allocation outcomes an order may move between while it waits for stock.
ALLOCATION_STATES = frozenset({S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.BACKORDERED})

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.CONFIRMED: frozenset({*ALLOCATION_STATES, S.ON_HOLD, S.CANCELLED}),
    S.ALLOCATED: frozenset({*ALLOCATION_STATES, S.PICKING, S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PARTIALLY_ALLOCATED: frozenset(
        {*ALLOCATION_STATES, S.PICKING, S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}
    ),
    S.BACKORDERED: frozenset({*ALLOCATION_STATES, S.ON_HOLD, S.CANCELLED}),
    S.PICKING: frozenset({*ALLOCATION_STATES, S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    # Leaving a hold goes back to what the order was (recorded on the order), or cancelled.
    S.ON_HOLD: frozenset({S.DRAFT, S.CONFIRMED, *ALLOCATION_STATES, S.PICKING, S.PARTIALLY_SHIPPED, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}

OPEN_STATUSES = frozenset(
    {S.DRAFT, S.CONFIRMED, *ALLOCATION_STATES, S.PICKING, S.PARTIALLY_SHIPPED, S.ON_HOLD}
)
CLOSED_STATUSES = frozenset({S.SHIPPED, S.DELIVERED, S.CLOSED, S.CANCELLED})
# Lines and quantities may still change (re-reserving in the same transaction).
MODIFIABLE_STATUSES = frozenset({S.DRAFT, S.CONFIRMED, *ALLOCATION_STATES})
CANCELLABLE_STATUSES = frozenset(status for status, targets in TRANSITIONS.items() if S.CANCELLED in targets)
SHIPPABLE_STATUSES = frozenset({S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.PICKING, S.PARTIALLY_SHIPPED})

BADGE_COLOURS: dict[str, str] = {
    S.DRAFT: "secondary",
    S.CONFIRMED: "info",
    S.ALLOCATED: "primary",
    S.PARTIALLY_ALLOCATED: "warning",
    S.BACKORDERED: "warning",
    S.PICKING: "primary",
    S.PARTIALLY_SHIPPED: "info",
    S.SHIPPED: "success",
    S.DELIVERED: "success",
    S.CLOSED: "dark",
    S.ON_HOLD: "danger",
    S.CANCELLED: "secondary",
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


class AllocationStrategy(models.TextChoices):
    PRIORITY = "priority", _("Warehouse priority")
    NEAREST = "nearest", _("Nearest warehouse")
    FEWEST_SPLITS = "fewest_splits", _("Fewest splits")


class ChannelKind(models.TextChoices):
    WEB = "web", _("Web shop")
    STORE = "store", _("Retail store")
    PHONE = "phone", _("Phone")
    MARKETPLACE = "marketplace", _("Marketplace")
    EDI = "edi", _("EDI")
    API = "api", _("API")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    ALLOCATED = "allocated", _("Stock allocated")
    MODIFIED = "modified", _("Modified")
    SHIPPED = "shipped", _("Shipped")
    NOTE = "note", _("Note")
    PROMISE = "promise", _("Promised date changed")
