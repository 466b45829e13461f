"""Template tags for purchasing: the PO status badge from the one vocabulary in suppliers.statuses."""

from __future__ import annotations

from django import template

from core import badges
from suppliers.statuses import BADGE_COLOURS, PurchaseOrderStatus

register = template.Library()


@register.simple_tag
def po_status_badge(status: str) -> str:
    """<span class="badge text-bg-…">Label</span> for a purchase-order status value."""
    return badges.status_badge(status, PurchaseOrderStatus, BADGE_COLOURS)
