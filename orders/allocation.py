"""Allocation planning: which warehouse ships how much of each line. Pure functions, no I/O.

Strategies: warehouse priority, nearest warehouse to the ship-to point (haversine), fewest
splits (prefer warehouses that can ship whole lines, most lines first). Partial allocation is
allowed; what no warehouse has stays backordered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from orders.statuses import AllocationStrategy


@dataclass(frozen=True)
class WarehouseInfo:
    id: int
    code: str
    priority: int
    handling_days: int
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Need:
    key: int  # the line's index or id
    product_id: int
    quantity: int


Plan = dict[int, list[tuple[int, int]]]  # need key -> [(warehouse_id, quantity)]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius = 6371.0088
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


def rank_warehouses(
    warehouses: Sequence[WarehouseInfo], *, strategy: str, point: tuple[float, float] | None
) -> list[WarehouseInfo]:
    by_priority = sorted(warehouses, key=lambda w: (w.priority, w.code))
    if strategy == AllocationStrategy.NEAREST and point is not None:
        def distance(w: WarehouseInfo) -> float:
            if w.latitude is None or w.longitude is None:
                return math.inf
            return haversine_km(point[0], point[1], w.latitude, w.longitude)

        return sorted(by_priority, key=distance)
    return by_priority


def plan_allocation(
    needs: Sequence[Need],
    available: dict[int, dict[int, int]],
    warehouses: Sequence[WarehouseInfo],
    *,
    strategy: str = AllocationStrategy.PRIORITY,
    point: tuple[float, float] | None = None,
) -> Plan:
    """Return how much of each need to take from which warehouse (never more than available)."""
    stock = {product: dict(per_warehouse) for product, per_warehouse in available.items()}
    ranked = rank_warehouses(warehouses, strategy=strategy, point=point)
    plan: Plan = {need.key: [] for need in needs}
    remaining = {need.key: need.quantity for need in needs}

    def take(need: Need, warehouse_id: int, limit: int) -> None:
        have = stock.get(need.product_id, {}).get(warehouse_id, 0)
        quantity = min(have, limit)
        if quantity > 0:
            plan[need.key].append((warehouse_id, quantity))
            stock[need.product_id][warehouse_id] = have - quantity
            remaining[need.key] -= quantity

    if strategy == AllocationStrategy.FEWEST_SPLITS:
        open_needs = [need for need in needs if need.quantity > 0]
        while open_needs:
            best, best_lines = None, []
            for warehouse in ranked:
                whole = [n for n in open_needs if stock.get(n.product_id, {}).get(warehouse.id, 0) >= remaining[n.key]]
                if len(whole) > len(best_lines):
                    best, best_lines = warehouse, whole
            if best is None:
                break
            for need in best_lines:
                take(need, best.id, remaining[need.key])
            open_needs = [n for n in open_needs if remaining[n.key] > 0]
    for need in needs:
        for warehouse in ranked:
            if remaining[need.key] <= 0:
                break
            take(need, warehouse.id, remaining[need.key])
    return plan


def add_business_days(start: date, days: int) -> date:
    current = start
    added = 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def promised_date(
    *,
    today: date,
    handling_days: Sequence[int],
    backorder_supply_dates: Sequence[date | None],
) -> date | None:
    """In stock: today + the slowest warehouse's handling days (working days).
    Backordered: the latest expected supply date + handling; unknown supply → no promise."""
    handling = max(handling_days, default=1)
    if backorder_supply_dates:
        if any(expected is None for expected in backorder_supply_dates):
            return None
        latest = max(d for d in backorder_supply_dates if d is not None)
        return add_business_days(max(latest, today), handling)
    return add_business_days(today, handling)
