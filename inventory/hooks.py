"""Inventory's hook points (core.hooks): how higher apps react to stock and add to its pages.

Inventory imports none of the apps that fill them. The call functions below are what inventory's
services and selectors call; `low_stock` and `product_panels` are combined in
inventory.selectors.low_stock and inventory.panels.product_panels.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from core.hooks import HANDLERS, PROVIDERS, declare

STOCK_ARRIVED = declare(
    app="inventory", name="stock_arrived", kind=HANDLERS,
    signature="(product_ids: set[int]) -> None",
    doc="Units became available (receipt, positive adjustment, transfer in, count gain, release); "
        "called inside that transaction.",
)
EXPECTED_SUPPLY_DATES = declare(
    app="inventory", name="expected_supply_dates", kind=PROVIDERS,
    signature="(product_ids: set[int], today: date, *, ahead: dict[int, int] | None, "
              "wanted: dict[int, int] | None) -> dict[int, date]",
    doc="When `wanted` units (default 1) can be promised after the `ahead` units owed to earlier orders; "
        "the earliest answer wins.",
)
OPEN_DEMAND = declare(
    app="inventory", name="open_demand", kind=PROVIDERS,
    signature="(product_ids: set[int] | None) -> dict[int, int]",
    doc="Units customers wait for that no stock is reserved for yet (None: every product); the answers add up.",
)
SUPPLY_CHANGED = declare(
    app="inventory", name="supply_changed", kind=HANDLERS,
    signature="(product_ids: set[int]) -> None",
    doc="Expected supply moved (a PO sent, cancelled, or its dates confirmed); called inside that transaction.",
)
LOW_STOCK = declare(
    app="inventory", name="low_stock", kind=PROVIDERS,
    signature="(levels: QuerySet[StockLevel]) -> QuerySet[StockLevel] | None",
    doc="The low-stock rule instead of the product threshold: the first answer that is not None wins.",
)
PRODUCT_PANELS = declare(
    app="inventory", name="product_panels", kind=PROVIDERS,
    signature="(product: Product, request: HttpRequest) -> inventory.panels.ProductPanel | None",
    doc="Extra panels on the product page, shown by their `order`; None leaves the panel out. "
        "Queries must not grow with the product's ledger.",
)


def stock_arrived(product_ids: Iterable[int]) -> None:
    ids = set(product_ids)
    if ids:
        STOCK_ARRIVED.call(ids)


def expected_supply_dates(
    product_ids: Iterable[int], today: date, *, ahead: dict[int, int] | None = None,
    wanted: dict[int, int] | None = None,
) -> dict[int, date]:
    """The earliest date each product can be promised, where anyone knows: `wanted` units
    (default 1) after the `ahead` units owed to earlier orders (default: all waiting ones)."""
    result: dict[int, date] = {}
    for answer in EXPECTED_SUPPLY_DATES.results(set(product_ids), today, ahead=ahead, wanted=wanted):
        for product_id, expected in answer.items():
            if product_id not in result or expected < result[product_id]:
                result[product_id] = expected
    return result


def open_demand(product_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Unreserved units customers wait for, per product (all products when `product_ids` is None)."""
    result: dict[int, int] = {}
    for answer in OPEN_DEMAND.results(set(product_ids) if product_ids is not None else None):
        for product_id, units in answer.items():
            result[product_id] = result.get(product_id, 0) + units
    return result


def supply_changed(product_ids: Iterable[int]) -> None:
    """Called inside the transaction that moved expected supply of these products."""
    ids = set(product_ids)
    if ids:
        SUPPLY_CHANGED.call(ids)
