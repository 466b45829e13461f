"""The purchase-order status vocabulary, its transition table, groups and badge colours."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


S = PurchaseOrderStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.ACKNOWLEDGED, S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED}),
    S.ACKNOWLEDGED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED}),
    # Closing a partially received order writes off what never came (a short close).
    S.PARTIALLY_RECEIVED: frozenset({S.RECEIVED, S.CLOSED}),
    S.RECEIVED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Open purchase orders: their unreceived quantity counts as on order for the planner.
OPEN_STATUSES = frozenset({S.DRAFT, S.SENT, S.ACKNOWLEDGED, S.PARTIALLY_RECEIVED})
# Committed to the supplier (not a draft): open PO value, supply dates for promises.
COMMITTED_STATUSES = frozenset({S.SENT, S.ACKNOWLEDGED, S.PARTIALLY_RECEIVED})
RECEIVABLE_STATUSES = COMMITTED_STATUSES
EDITABLE_STATUSES = frozenset({S.DRAFT})
# A supplier may acknowledge and confirm dates while the order is on its way.
ACKNOWLEDGEABLE_STATUSES = frozenset({S.SENT, S.ACKNOWLEDGED})
DATE_CONFIRMABLE_STATUSES = frozenset({S.SENT, S.ACKNOWLEDGED, S.PARTIALLY_RECEIVED})
CLOSED_STATUSES = frozenset({S.RECEIVED, S.CLOSED, S.CANCELLED})

BADGE_COLOURS: dict[str, str] = {
    S.DRAFT: "secondary",
    S.SENT: "info",
    S.ACKNOWLEDGED: "primary",
    S.PARTIALLY_RECEIVED: "warning",
    S.RECEIVED: "success",
    S.CLOSED: "dark",
    S.CANCELLED: "secondary",
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


class PolicyMethod(models.TextChoices):
    MIN_MAX = "min_max", _("Min / max")
    REORDER_POINT = "reorder_point", _("Reorder point + safety stock")


class PurchaseOrderSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    PLANNER = "planner", _("Replenishment planner")


class PurchaseOrderEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    RECEIVED = "received", _("Goods received")
    DATES = "dates", _("Dates confirmed")
    EMAILED = "emailed", _("Sent by e-mail")
    MODIFIED = "modified", _("Modified")
    NOTE = "note", _("Note")
