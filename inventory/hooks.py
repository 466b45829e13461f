"""Explicit hooks through which higher apps react to inventory (inventory imports none of them).

- `stock_arrived`: called inside the transaction that made units available (receipt, positive
  adjustment, transfer in, count gain, release). Orders registers a handler that enqueues the
  backorder reallocation through the outbox, so it runs after commit and is never lost.
- `expected_supply_dates`: when the units an order waits for are expected, after those owed to
  earlier orders (suppliers registers open purchase orders and lead times); orders uses it to
  promise backordered lines.
- `open_demand`: units customers wait for that no stock is reserved for yet (orders registers its
  backordered lines); the replenishment planner and supply dates count them.
- `supply_changed`: expected supply moved (a PO sent, cancelled, or its dates confirmed); a higher
  app may re-promise waiting orders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

StockArrivedHandler = Callable[[set[int]], None]
# (product ids, today, *, ahead=units owed to earlier orders, wanted=units this order needs)
SupplyDateProvider = Callable[..., dict[int, date]]
OpenDemandProvider = Callable[[set[int] | None], dict[int, int]]
SupplyChangedHandler = Callable[[set[int]], None]

_stock_arrived_handlers: list[StockArrivedHandler] = []
_supply_date_providers: list[SupplyDateProvider] = []
_open_demand_providers: list[OpenDemandProvider] = []
_supply_changed_handlers: list[SupplyChangedHandler] = []


def register_stock_arrived(handler: StockArrivedHandler) -> None:
    if handler not in _stock_arrived_handlers:
        _stock_arrived_handlers.append(handler)


def register_supply_date_provider(provider: SupplyDateProvider) -> None:
    if provider not in _supply_date_providers:
        _supply_date_providers.append(provider)


def stock_arrived(product_ids: Iterable[int]) -> None:
    ids = set(product_ids)
    if not ids:
        return
    for handler in _stock_arrived_handlers:
        handler(ids)


def expected_supply_dates(
    product_ids: Iterable[int], today: date, *, ahead: dict[int, int] | None = None,
    wanted: dict[int, int] | None = None,
) -> dict[int, date]:
    """The earliest date each product can be promised, where anyone knows: `wanted` units
    (default 1) after the `ahead` units owed to earlier orders (default: all waiting ones)."""
    ids = set(product_ids)
    result: dict[int, date] = {}
    for provider in _supply_date_providers:
        for product_id, expected in provider(ids, today, ahead=ahead, wanted=wanted).items():
            if product_id not in result or expected < result[product_id]:
                result[product_id] = expected
    return result


def register_open_demand_provider(provider: OpenDemandProvider) -> None:
    if provider not in _open_demand_providers:
        _open_demand_providers.append(provider)


def open_demand(product_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Unreserved units customers wait for, per product (all products when `product_ids` is None)."""
    ids = set(product_ids) if product_ids is not None else None
    result: dict[int, int] = {}
    for provider in _open_demand_providers:
        for product_id, units in provider(ids).items():
            result[product_id] = result.get(product_id, 0) + units
    return result


def register_supply_changed(handler: SupplyChangedHandler) -> None:
    if handler not in _supply_changed_handlers:
        _supply_changed_handlers.append(handler)


def supply_changed(product_ids: Iterable[int]) -> None:
    """Called inside the transaction that moved expected supply of these products."""
    ids = set(product_ids)
    if not ids:
        return
    for handler in _supply_changed_handlers:
        handler(ids)
