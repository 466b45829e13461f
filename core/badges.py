"""Status badges for every status vocabulary (orders, purchase orders, …): one markup, one place."""

from __future__ import annotations

from django.db.models import TextChoices
from django.utils.html import format_html
from django.utils.safestring import SafeString


def status_label(status: str, choices: type[TextChoices]) -> str:
    try:
        return str(choices(status).label)
    except ValueError:
        return status


def status_badge(status: str, choices: type[TextChoices], colours: dict[str, str]) -> SafeString:
    """<span class="badge text-bg-…">Label</span>, colour from the app's statuses.py."""
    return format_html(
        '<span class="badge text-bg-{} status-badge" data-status="{}">{}</span>',
        colours.get(status, "secondary"),
        status,
        status_label(status, choices),
    )
