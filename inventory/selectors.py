"""Reads of stock: availability, ledger with running balance, low stock, ledger verification."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from inventory import hooks
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.services import movement_hash


def availability(*, product_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """{product_id: {warehouse_id: available}} without locking (for display and planning).

    The one read of StockLevel.available for Python code; SQL reads the column itself.
    """
    result: dict[int, dict[int, int]] = defaultdict(dict)
    rows = StockLevel.objects.filter(product_id__in=list(product_ids)).values_list(
        "product_id", "warehouse_id", "available"
    )
    for product_id, warehouse_id, available in rows:
        result[product_id][warehouse_id] = available
    return result


def stock_levels() -> QuerySet[StockLevel]:
    return (
        StockLevel.objects.select_related("product", "warehouse")
        .order_by("product__sku", "warehouse__priority", "warehouse__code")
    )


def product_ledger(*, product: Product, warehouse_id: int | None = None) -> QuerySet[StockMovement]:
    """Movements newest first; `balance_after` is the running balance of that stock level."""
    queryset = StockMovement.objects.filter(product=product).select_related("warehouse", "user")
    if warehouse_id is not None:
        queryset = queryset.filter(warehouse_id=warehouse_id)
    return queryset.order_by("-id")


def low_stock() -> QuerySet[StockLevel]:
    """Stock rows at or below their reorder point (when a policy exists) or product threshold.

    A higher app's rule (suppliers' reorder policies) comes in through inventory.hooks.LOW_STOCK.
    """
    base = stock_levels().filter(product__active=True)
    for filler in hooks.LOW_STOCK.fillers():
        result = filler.function(base)
        if result is not None:
            return result
    return base.filter(available__lte=F("product__low_stock_threshold"), product__low_stock_threshold__gt=0)


@dataclass(frozen=True)
class LedgerDrift:
    stock_level_id: int
    product_id: int
    warehouse_id: int
    problem: str
    movement_id: int | None = None

    def describe(self) -> str:
        where = f"stock level {self.stock_level_id} (product {self.product_id}, warehouse {self.warehouse_id})"
        if self.movement_id:
            return f"{where}: {self.problem} at movement {self.movement_id}"
        return f"{where}: {self.problem}"


def verify_ledger() -> list[LedgerDrift]:
    """Compare every stock level with its movements: sums, balances and the hash chain.

    Streams movements in (product, warehouse, id) order with a server-side cursor, so memory
    stays flat on large ledgers.
    """
    drifts: list[LedgerDrift] = []
    sums: dict[tuple[int, int], int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, product_id, warehouse_id, on_hand, ledger_hash FROM inventory_stocklevel")
        levels = {(row[1], row[2]): row for row in cursor.fetchall()}
    movements = (
        StockMovement.objects.order_by("product_id", "warehouse_id", "id")
        .values_list("id", "product_id", "warehouse_id", "kind", "quantity", "balance_after", "reference", "created_at", "hash")
        .iterator(chunk_size=5000)
    )
    current: tuple[int, int] | None = None
    previous_hash = ""
    balance = 0
    broken: set[tuple[int, int]] = set()
    heads: dict[tuple[int, int], str] = {}

    def level_of(key: tuple[int, int]) -> Any:
        return levels.get(key) or (0, key[0], key[1], 0, "")

    for movement_id, product_id, warehouse_id, kind, quantity, balance_after, reference, created_at, stored in movements:
        key = (product_id, warehouse_id)
        if key != current:
            current, previous_hash, balance = key, "", 0
        balance += quantity
        expected = movement_hash(
            previous_hash, product_id=product_id, warehouse_id=warehouse_id, kind=kind, quantity=quantity,
            balance_after=balance_after, reference=reference, created_at=created_at,
        )
        if key not in broken and (stored != expected or balance_after != balance):
            level = level_of(key)
            problem = "hash chain broken" if stored != expected else f"balance_after {balance_after} ≠ running sum {balance}"
            drifts.append(LedgerDrift(level[0], product_id, warehouse_id, problem, movement_id))
            broken.add(key)
        previous_hash = stored
        sums[key] = balance
        heads[key] = stored
    for key, level in levels.items():
        total = sums.get(key, 0)
        if level[3] != total:
            drifts.append(LedgerDrift(level[0], key[0], key[1], f"on_hand {level[3]} ≠ sum of movements {total}"))
        elif key not in broken and level[4] != heads.get(key, ""):
            drifts.append(LedgerDrift(level[0], key[0], key[1], "ledger head hash does not match the last movement"))
    return drifts


# --- portal reads -------------------------------------------------------------------------------
@dataclass(frozen=True)
class WarehouseStock:
    warehouse: Warehouse
    on_hand: int
    reserved: int
    available: int


def stock_by_warehouse(*, sku: str | None = None, product: Product | None = None) -> tuple[Product | None, list[WarehouseStock]]:
    """(product, one row per active warehouse and per warehouse holding stock), in three queries at most."""
    if product is None:
        product = Product.objects.filter(sku=sku).first() if sku else None
    if product is None:
        return None, []
    levels = {
        level.warehouse_id: level
        for level in StockLevel.objects.filter(product=product).select_related("warehouse")
    }
    warehouses = {w.pk: w for w in Warehouse.objects.filter(active=True)}
    for level in levels.values():
        warehouses.setdefault(level.warehouse_id, level.warehouse)
    rows = []
    for warehouse in sorted(warehouses.values(), key=lambda w: (w.priority, w.code)):
        level = levels.get(warehouse.pk)
        rows.append(
            WarehouseStock(warehouse=warehouse, on_hand=level.on_hand, reserved=level.reserved, available=level.available)
            if level is not None
            else WarehouseStock(warehouse=warehouse, on_hand=0, reserved=0, available=0)
        )
    return product, rows


def attach_stock_totals(products: list[Product]) -> None:
    """Set `on_hand`, `reserved`, `available` summed over warehouses on each product (one query)."""
    if not products:
        return
    totals = {
        row["product_id"]: row
        for row in StockLevel.objects.filter(product_id__in=[p.pk for p in products])
        .order_by()
        .values("product_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"), available=Sum("available"))
    }
    for product in products:
        row = totals.get(product.pk, {})
        product.on_hand = row.get("on_hand") or 0
        product.reserved = row.get("reserved") or 0
        product.available = row.get("available") or 0


def warehouse_summaries() -> QuerySet[Warehouse]:
    """Warehouses with their SKU count and stock totals, one grouped query."""
    return Warehouse.objects.annotate(
        sku_count=Count("stock_levels", filter=Q(stock_levels__on_hand__gt=0)),
        on_hand_total=Coalesce(Sum("stock_levels__on_hand"), 0),
        reserved_total=Coalesce(Sum("stock_levels__reserved"), 0),
    ).order_by("priority", "code")



def dashboard_tiles(user: Any) -> list[dict[str, Any]]:
    """Low-stock rows (one count over the low-stock rule, stopping at 10,000 rows)."""
    cap = 10_000
    number = low_stock().order_by()[: cap + 1].count()
    return [{"label": _("Low-stock rows"), "value": f"{cap:,}+" if number > cap else number,
             "url": reverse("inventory:low_stock")}]
