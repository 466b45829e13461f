from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.permissions import can_open

NAVIGATION = [
    ("orders", _("Orders"), "orders:index", "bi-receipt"),
    ("inventory", _("Inventory"), "inventory:index", "bi-box-seam"),
    ("purchasing", _("Purchasing"), "suppliers:index", "bi-truck"),
    ("logistics", _("Logistics"), "logistics:index", "bi-geo-alt"),
    ("analytics", _("Analytics"), "analytics:index", "bi-graph-up"),
    ("integrations", _("Integrations"), "integrations:index", "bi-plug"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.resolver_match.namespace if request.resolver_match else ""
    items = [
        {
            "section": section,
            "label": label,
            "url": reverse(url_name),
            "icon": icon,
            "active": current == url_name.split(":")[0],
        }
        for section, label, url_name, icon in NAVIGATION
        if can_open(user, section)
    ]
    return {"nav_items": items, "nav_show_admin": user.is_staff}
