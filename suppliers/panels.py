"""Purchasing's panel on the inventory product page: demand forecast vs actual, and the reorder
policies per warehouse. Fills inventory.hooks.PRODUCT_PANELS in SuppliersConfig.ready() (inventory
imports nothing from here).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.permissions import can_open
from inventory.panels import ProductPanel
from suppliers import forecasting
from suppliers.models import ReorderPolicy

PANEL_NAME = "suppliers.product_forecast"
TEMPLATE_NAME = "suppliers/partials/product_forecast.html"
SCRIPTS = ("vendor/chartjs-4.6.1/chart.umd.min.js", "js/forecast_chart.js")
PANEL_ORDER = 100
EVALUATION_DAYS = 28  # past days compared with what the method predicted for them
HORIZON_DAYS = 14  # days forecast ahead (whole weeks: the mean equals the planner's 28-day mean)
VIEW_POLICIES = "suppliers.view_reorderpolicy"

METHOD_LABELS = {
    forecasting.METHOD_NONE: gettext_lazy("no demand"),
    forecasting.METHOD_MEAN: gettext_lazy("plain mean (short history)"),
    forecasting.METHOD_SES: gettext_lazy("SES (simple exponential smoothing)"),
    forecasting.METHOD_SEASONAL_ES: gettext_lazy("seasonal exponential smoothing (weekly)"),
    forecasting.METHOD_TSB: gettext_lazy("TSB (intermittent demand)"),
}


def may_see_purchasing_data(user: Any) -> bool:
    """Forecasts and reorder policies are purchasing data: the purchasing section and the right
    to view reorder policies (every role with the inventory section has both; a custom inventory-
    only user does not)."""
    return can_open(user, "purchasing") and user.has_perm(VIEW_POLICIES)


def product_reorder_policies(*, product_id: int) -> QuerySet[ReorderPolicy]:
    return (
        ReorderPolicy.objects.filter(product_id=product_id)
        .select_related("warehouse", "preferred_supplier")
        .order_by("warehouse__priority", "warehouse__code")
    )


def _percent(fraction: Decimal) -> str:
    """0.975 → "97.5", 0.95 → "95" (no trailing zeros)."""
    return f"{fraction * 100:.2f}".rstrip("0").rstrip(".")


def method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


def product_forecast_context(product: Any, request: HttpRequest) -> dict[str, Any] | None:
    """The panel's context, or None when the user may not see purchasing data.

    Two queries whatever the ledger size: the daily shipment history (one set-based query) and
    the product's reorder policies.
    """
    if not may_see_purchasing_data(request.user):
        return None
    comparison = forecasting.forecast_vs_actual(
        product_id=product.pk, days=EVALUATION_DAYS, horizon=HORIZON_DAYS
    )
    rows = [
        {
            "day": point.day,
            "actual": point.actual,
            "forecast": point.forecast,
            "error": None if point.actual is None else abs(point.actual - point.forecast),
        }
        for point in comparison.points
    ]
    chart = {
        **comparison.chart_data(),
        "past_days": EVALUATION_DAYS,
        "series": {"actual": _("Actual (shipped)"), "forecast": _("Forecast")},
        "y_label": _("units per day"),
    }
    return {
        "comparison": comparison,
        "method_label": method_label(comparison.method),
        "holdout_method_label": method_label(comparison.holdout_method),
        "chart": chart,
        "rows": rows,
        "evaluation_days": EVALUATION_DAYS,
        "horizon_days": HORIZON_DAYS,
        "policies": [
            {"policy": policy, "service_level_percent": _percent(policy.service_level)}
            for policy in product_reorder_policies(product_id=product.pk)
        ],
    }


def product_forecast_panel(product: Any, request: HttpRequest) -> ProductPanel | None:
    """The panel for inventory's product page, or None when the user may not see purchasing data."""
    context = product_forecast_context(product, request)
    if context is None:
        return None
    return ProductPanel(name=PANEL_NAME, template_name=TEMPLATE_NAME, context=context, order=PANEL_ORDER,
                        scripts=SCRIPTS)
