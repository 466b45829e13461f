"""Daily demand statistics for the planner, one SQL statement for every product x warehouse.

`suppliers.forecasting.daily_demand_stats` (a forecasting model) is used when that module is
present; this module is the simple fallback: mean and sample standard deviation of shipped
units per calendar day over the last `days` days (days without shipments count as zero).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from inventory.models import MovementKind

logger = logging.getLogger(__name__)

HISTORY_DAYS = 90


@dataclass(frozen=True)
class DemandStats:
    mean: float
    sigma: float
    method: str = "history"


_HISTORY_SQL = """
WITH daily AS (
    SELECT m.product_id, m.warehouse_id,
           (m.created_at AT TIME ZONE %(tz)s)::date AS day,
           SUM(-m.quantity)::float8 AS units
      FROM inventory_stockmovement m
     WHERE m.kind = %(kind)s
       AND m.created_at >= now() - make_interval(days => %(days)s)
       {pair_filter}
     GROUP BY 1, 2, 3
)
SELECT product_id, warehouse_id, SUM(units) AS total, SUM(units * units) AS total_squares
  FROM daily
 GROUP BY 1, 2
"""


def history_demand_stats(
    *, product_warehouse_pairs: Iterable[tuple[int, int]] | None = None, days: int = HISTORY_DAYS
) -> dict[tuple[int, int], DemandStats]:
    """Mean and sample sigma of daily shipped units per (product, warehouse); absent = no demand."""
    params: dict[str, Any] = {"tz": settings.TIME_ZONE, "kind": MovementKind.SHIPMENT, "days": days}
    pair_filter = ""
    if product_warehouse_pairs is not None:
        pairs = sorted(set(product_warehouse_pairs))
        if not pairs:
            return {}
        params["products"] = [p for p, _ in pairs]
        params["warehouses"] = [w for _, w in pairs]
        pair_filter = (
            "AND (m.product_id, m.warehouse_id) IN "
            "(SELECT * FROM unnest(%(products)s::bigint[], %(warehouses)s::bigint[]))"
        )
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY_SQL.format(pair_filter=pair_filter), params)
        rows = cursor.fetchall()
    result: dict[tuple[int, int], DemandStats] = {}
    for product_id, warehouse_id, total, total_squares in rows:
        mean = total / days
        variance = max((total_squares - days * mean * mean) / (days - 1), 0.0) if days > 1 else 0.0
        result[(product_id, warehouse_id)] = DemandStats(mean=mean, sigma=math.sqrt(variance))
    return result


def daily_demand_stats(
    *, product_warehouse_pairs: Iterable[tuple[int, int]] | None = None
) -> dict[tuple[int, int], Any]:
    """The forecasting module's figures when it is installed, else the history fallback.

    Values have `.mean` and `.sigma` (units per day)."""
    try:
        from suppliers import forecasting
    except ImportError as exc:
        if exc.name != "suppliers.forecasting":
            logger.warning("suppliers.forecasting could not be imported (%s); using demand history", exc)
        forecasting = None
    provider = getattr(forecasting, "daily_demand_stats", None)
    if provider is not None:
        return provider(product_warehouse_pairs=product_warehouse_pairs)
    return history_demand_stats(product_warehouse_pairs=product_warehouse_pairs)
