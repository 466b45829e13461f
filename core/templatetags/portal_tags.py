"""Generic portal template tags: sortable column headers and Bootstrap classes on form widgets."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context: dict[str, Any], key: str, label: str) -> str:
    """A column header link that sorts by `key`, toggling the direction when already sorted by it.

    The current sort comes from the context's `sort` ('-created' …); cursors are dropped.
    """
    request = context["request"]
    current = context.get("sort") or ""
    active = current.removeprefix("-") == key
    descending = current.startswith("-")
    target = key if (active and descending) else f"-{key}" if active else key
    query = request.GET.copy()
    for name in ("after", "before", "page"):
        query.pop(name, None)
    query["sort"] = target
    url = f"?{query.urlencode()}"
    icon = ""
    if active:
        icon = "bi-sort-down" if descending else "bi-sort-up"
    sort_state = ("descending" if descending else "ascending") if active else "none"
    return format_html(
        '<a class="sort-link text-reset text-decoration-none" href="{}" hx-get="{}" aria-sort="{}" '
        'title="{}">{} <i class="bi {}" aria-hidden="true"></i></a>',
        url, url, sort_state, _("Sort"), label, icon,
    )


@register.filter
def with_class(field: forms.BoundField, css: str = "") -> str:
    """Render a bound field with Bootstrap's class for its widget type (plus `css`)."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        base = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple) and not isinstance(
        widget, forms.CheckboxSelectMultiple
    ):
        base = "form-select"
    else:
        base = "form-control"
    existing = widget.attrs.get("class", "")
    classes = " ".join(dict.fromkeys(f"{existing} {base} {css}".split()))
    if field.errors:
        classes += " is-invalid"
    return field.as_widget(attrs={"class": classes})
