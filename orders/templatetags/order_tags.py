"""Template tags for orders: the status badge, from the one vocabulary in orders.statuses."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from orders.statuses import BADGE_COLOURS, OrderStatus

register = template.Library()


@register.simple_tag
def status_badge(status: str) -> str:
    """<span class="badge text-bg-…">Label</span> for an order status value."""
    try:
        label = OrderStatus(status).label
    except ValueError:
        label = status
    colour = BADGE_COLOURS.get(status, "secondary")
    return format_html('<span class="badge text-bg-{} status-badge" data-status="{}">{}</span>', colour, status, label)


@register.filter
def status_label(status: str) -> str:
    try:
        return str(OrderStatus(status).label)
    except ValueError:
        return status
