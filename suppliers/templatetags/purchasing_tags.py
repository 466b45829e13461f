"""Template tags for purchasing: the PO status badge from the one vocabulary in suppliers.statuses."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from suppliers.statuses import BADGE_COLOURS, PurchaseOrderStatus

register = template.Library()


@register.simple_tag
def po_status_badge(status: str) -> str:
    """<span class="badge text-bg-…">Label</span> for a purchase-order status value."""
    try:
        label = PurchaseOrderStatus(status).label
    except ValueError:
        label = status
    colour = BADGE_COLOURS.get(status, "secondary")
    return format_html('<span class="badge text-bg-{} status-badge" data-status="{}">{}</span>', colour, status, label)
