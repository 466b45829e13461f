"""Template tags for orders: the status badge, from the one vocabulary in orders.statuses."""

from __future__ import annotations

from django import template

from core import badges
from orders.statuses import BADGE_COLOURS, OrderStatus

register = template.Library()


@register.simple_tag
def status_badge(status: str) -> str:
    """<span class="badge text-bg-…">Label</span> for an order status value."""
    return badges.status_badge(status, OrderStatus, BADGE_COLOURS)


@register.filter
def status_label(status: str) -> str:
    return badges.status_label(status, OrderStatus)
