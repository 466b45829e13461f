"""Explicit hooks through which higher apps react to inventory (inventory imports none of them).

- `stock_arrived`: called inside the transaction that made units available (receipt, positive
  adjustment, transfer in, count gain, release). Orders registers a handler that enqueues the
  backorder reallocation through the outbox, so it runs after commit and is never lost.
- `expected_supply_dates`: when more units of a product are expected (suppliers registers open
  purchase orders and lead times); orders uses it to promise backordered lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

StockArrivedHandler = Callable[[set[int]], None]
SupplyDateProvider = Callable[[set[int], date], dict[int, date]]

_stock_arrived_handlers: list[StockArrivedHandler] = []
_supply_date_providers: list[SupplyDateProvider] = []


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


def expected_supply_dates(product_ids: Iterable[int], today: date) -> dict[int, date]:
    """The earliest date each product is expected back in stock, where anyone knows."""
    ids = set(product_ids)
    result: dict[int, date] = {}
    for provider in _supply_date_providers:
        for product_id, expected in provider(ids, today).items():
            if product_id not in result or expected < result[product_id]:
                result[product_id] = expected
    return result
