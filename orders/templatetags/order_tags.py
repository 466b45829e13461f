"""Template tags for orders: the status badge (from the one vocabulary in orders.statuses) and the list's rows."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

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


# Any id: reverse() once per page, then the id is put in by string replacement.
_ID_SLOT = 987654321987


@register.simple_tag
def order_rows(page: Any, *, can_change: bool, customer_query: str, select_label: str) -> SafeString:
    """The orders list's table rows, rendered in Python.

    The list is the busiest page; through the template engine each row cost ~0.28 ms (some 20
    variable lookups, filters and localisation per row), over half the page at 50 rows. Same
    markup, same escaping (format_html), same formats: dates as Y-m-d [H:i] in the current time
    zone, totals with two decimals and the locale's grouping as `floatformat:2|intcomma` gives.
    """
    detail_url = reverse("orders:order_detail", args=[_ID_SLOT])
    rows = []
    for order in page:
        created = localtime(order.created_at)
        select = (
            format_html(
                '<td><input class="form-check-input" type="checkbox" name="ids" value="{}" aria-label="{} {}"></td>',
                order.pk, select_label, order.number,
            )
            if can_change else ""
        )
        external_ref = (
            format_html('<div class="small text-muted">{}</div>', order.external_ref) if order.external_ref else ""
        )
        backordered = (
            format_html('<span class="text-warning-emphasis">{}</span>', order.backordered_units)
            if order.backordered_units else "0"
        )
        customer_href = f"?{customer_query}customer={order.customer_id}"
        rows.append(format_html(
            "<tr>{select}"
            '<td><a href="{url}" hx-boost="false">{number}</a>{external_ref}</td>'
            '<td class="d-none d-md-table-cell" title="{created_iso}">{created}</td>'
            '<td class="d-none d-lg-table-cell">{channel}</td>'
            '<td><a class="text-reset" href="{customer_href}" hx-get="{customer_href}">{customer}</a></td>'
            "<td>{badge}</td>"
            '<td class="text-end d-none d-lg-table-cell">{line_count}</td>'
            '<td class="text-end d-none d-lg-table-cell">{units}</td>'
            '<td class="text-end">{backordered}</td>'
            '<td class="text-end">{total} {currency}</td>'
            '<td class="d-none d-md-table-cell">{promised}</td>'
            "</tr>",
            select=select,
            url=detail_url.replace(str(_ID_SLOT), str(order.pk)),
            number=order.number,
            external_ref=external_ref,
            created_iso=created.isoformat(),
            created=created.strftime("%Y-%m-%d %H:%M"),
            channel=order.channel.name,
            customer_href=customer_href,
            customer=order.customer.name,
            badge=status_badge(order.status),
            line_count=order.line_count,
            units=order.units,
            backordered=backordered,
            total=number_format(order.total, decimal_pos=2, force_grouping=True),
            currency=order.currency,
            promised=order.promised_date.isoformat() if order.promised_date else "—",
        ))
    return mark_safe("\n".join(rows))  # noqa: S308 — every piece went through format_html
