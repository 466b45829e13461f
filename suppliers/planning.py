"""Pure replenishment math: safety stock, reorder point, order quantity, pricing, supplier choice.

No database access here, so the planner's set-based code and the tests share one definition.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

from suppliers.statuses import PolicyMethod

CENT = Decimal("0.01")


@functools.lru_cache(maxsize=256)
def z_score(service_level: float | Decimal) -> float:
    """The standard normal quantile for a cycle service level (0.95 → 1.645); cached, since a
    planner run asks for the same few levels a hundred thousand times."""
    level = float(service_level)
    if not 0 < level < 1:
        raise ValueError("service level must lie strictly between 0 and 1")
    return NormalDist().inv_cdf(level)


def safety_stock(
    *,
    service_level: float | Decimal,
    sigma_daily: float,
    lead_time_days: float,
    mean_daily: float = 0.0,
    lead_time_sigma: float = 0.0,
) -> float:
    """z * sqrt(L * sigma_d^2 + mean_d^2 * sigma_L^2); with a fixed lead time this is z * sigma_d * sqrt(L)."""
    if lead_time_days <= 0:
        return 0.0
    variance = lead_time_days * sigma_daily**2 + (mean_daily**2) * (lead_time_sigma**2)
    return max(z_score(service_level) * math.sqrt(variance), 0.0)


def reorder_point(*, mean_daily: float, lead_time_days: float, safety: float) -> float:
    """Expected demand over the lead time plus safety stock."""
    return mean_daily * lead_time_days + safety


@dataclass(frozen=True)
class PolicyLevels:
    reorder_level: int  # at or below this inventory position an order is due
    order_up_to: int  # an order brings the position up to this level
    safety_stock: int


def policy_levels(
    *,
    method: str,
    min_quantity: int,
    max_quantity: int,
    service_level: float | Decimal,
    review_period_days: int,
    mean_daily: float,
    sigma_daily: float,
    lead_time_days: float,
    lead_time_sigma: float = 0.0,
) -> PolicyLevels:
    if method == PolicyMethod.MIN_MAX:
        return PolicyLevels(reorder_level=min_quantity, order_up_to=max_quantity, safety_stock=0)
    safety = safety_stock(
        service_level=service_level, sigma_daily=sigma_daily, lead_time_days=lead_time_days,
        mean_daily=mean_daily, lead_time_sigma=lead_time_sigma,
    )
    rop = max(math.ceil(reorder_point(mean_daily=mean_daily, lead_time_days=lead_time_days, safety=safety) - 1e-9),
              min_quantity)
    cycle = math.ceil(mean_daily * max(review_period_days, 1) - 1e-9)
    return PolicyLevels(
        reorder_level=rop,
        order_up_to=max(rop + cycle, max_quantity),
        safety_stock=math.ceil(safety - 1e-9),
    )


def inventory_position(*, available: int, on_order: int, backordered: int = 0) -> int:
    """What we have free (StockLevel.available) and have coming, less what waiting orders are owed."""
    return available + on_order - backordered


def quantity_needed(*, position: int, levels: PolicyLevels) -> int:
    """Units to order now (before MOQ/pack rounding): 0 unless the position is at or below the reorder level."""
    if position > levels.reorder_level:
        return 0
    return max(levels.order_up_to - position, 0)


def round_order_quantity(quantity: int, *, minimum_order_quantity: int = 1, pack_size: int = 1) -> int:
    """Raise to the MOQ, then up to whole packs."""
    if quantity <= 0:
        return 0
    pack = max(pack_size, 1)
    quantity = max(quantity, minimum_order_quantity, 1)
    return -(-quantity // pack) * pack


def unit_cost_for(quantity: int, *, base_cost: Decimal, price_breaks: Sequence[tuple[int, Decimal]] = ()) -> Decimal:
    """The unit cost at this line quantity: the break with the highest threshold reached, else base."""
    cost = base_cost
    best_threshold = 0
    for min_quantity, break_cost in price_breaks:
        if best_threshold < min_quantity <= quantity:
            cost, best_threshold = break_cost, min_quantity
    return cost


@dataclass(frozen=True)
class Candidate:
    """A supplier offer for one product, as the planner sees it."""

    supplier_id: int
    supplier_product_id: int
    cost: Decimal
    minimum_order_quantity: int = 1
    pack_size: int = 1
    lead_time_days: float = 14
    preferred: bool = False
    landed_cost_percent: Decimal = Decimal("0")
    price_breaks: tuple[tuple[int, Decimal], ...] = field(default=())
    supplier_sku: str = ""
    currency: str = "CNY"
    # Units of the base currency per unit of `currency` (core.money); None: no rate known.
    rate_to_base: Decimal | None = None


@dataclass(frozen=True)
class Choice:
    candidate: Candidate
    quantity: int
    unit_cost: Decimal
    landed_total: Decimal  # in the offer's currency
    landed_base: Decimal | None  # in the base currency; None without an exchange rate


def price_choice(candidate: Candidate, need: int) -> Choice:
    quantity = round_order_quantity(
        need, minimum_order_quantity=candidate.minimum_order_quantity, pack_size=candidate.pack_size
    )
    unit_cost = unit_cost_for(quantity, base_cost=candidate.cost, price_breaks=candidate.price_breaks)
    landed = (unit_cost * quantity * (1 + candidate.landed_cost_percent / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
    landed_base = (
        (landed * candidate.rate_to_base).quantize(CENT, rounding=ROUND_HALF_UP)
        if candidate.rate_to_base is not None else None
    )
    return Choice(candidate, quantity, unit_cost, landed, landed_base)


def _cheapest_first(choice: Choice) -> tuple:
    # Offers are compared in the base currency. One without an exchange rate cannot be compared
    # with the others: it comes after every offer that can (among themselves such offers
    # compare only within one currency, then by lead time).
    if choice.landed_base is not None:
        return (0, "", choice.landed_base, choice.candidate.lead_time_days, choice.candidate.supplier_id)
    return (1, choice.candidate.currency, choice.landed_total, choice.candidate.lead_time_days,
            choice.candidate.supplier_id)


def choose_supplier(
    candidates: Sequence[Candidate], need: int, *, preferred_supplier_id: int | None = None
) -> Choice | None:
    """The policy's preferred supplier, else the catalogue's preferred offer, else the cheapest
    landed cost for the rounded quantity (price breaks applied) in the base currency, ties to
    the shortest lead time; offers whose currency has no exchange rate come last."""
    if need <= 0 or not candidates:
        return None
    if preferred_supplier_id is not None:
        for candidate in candidates:
            if candidate.supplier_id == preferred_supplier_id:
                return price_choice(candidate, need)
    for candidate in candidates:
        if candidate.preferred:
            return price_choice(candidate, need)
    choices = [price_choice(candidate, need) for candidate in candidates]
    return min(choices, key=_cheapest_first)


def planning_lead_time(
    candidates: Sequence[Candidate], *, preferred_supplier_id: int | None = None
) -> Candidate | None:
    """The offer whose lead time sizes the reorder point: the one that would be chosen first,
    else the fastest one."""
    if not candidates:
        return None
    for candidate in candidates:
        if candidate.supplier_id == preferred_supplier_id:
            return candidate
    for candidate in candidates:
        if candidate.preferred:
            return candidate
    return min(candidates, key=lambda c: (c.lead_time_days, c.supplier_id))
