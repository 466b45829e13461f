"""The stock/order invariant check used by tests, benchmarks and after-incident audits.

`stock_invariant_violations()` returns one readable line per broken rule (empty list = green):

- every stock row: `on_hand` = Σ its ledger movements, and no movements without a stock row;
- every stock row: `0 ≤ reserved ≤ on_hand`;
- every stock row: `reserved` = Σ `Allocation.quantity` of that product and warehouse;
- no allocation without an order line; allocations of finished orders reserve nothing;
- every order line: `quantity_allocated` = Σ its allocations' `quantity` and `quantity_shipped`
  = Σ their `quantity_shipped`; the ledger's shipment movements equal what allocations shipped;
- optionally the ledger's hash chain and running balances (inventory.selectors.verify_ledger).

Set-based SQL (a handful of queries whatever the data size), read-only, no locks: run it on a
quiet database (after a test, after a benchmark) — under concurrent writes it may see a
half-finished picture between statements.
"""

from __future__ import annotations

from django.db import connection

from orders.statuses import OrderStatus

FINISHED_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CLOSED, OrderStatus.CANCELLED)

_CHECKS: list[tuple[str, tuple[str, ...], str, list]] = [
    (
        "on_hand ≠ Σ movements",
        ("stock_level", "product", "warehouse", "on_hand", "Σ movements"),
        """
        SELECT s.id, s.product_id, s.warehouse_id, s.on_hand, COALESCE(m.total, 0)
          FROM inventory_stocklevel s
          LEFT JOIN (SELECT product_id, warehouse_id, SUM(quantity) AS total
                       FROM inventory_stockmovement GROUP BY product_id, warehouse_id) m
            ON m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id
         WHERE s.on_hand <> COALESCE(m.total, 0)
         ORDER BY s.product_id, s.warehouse_id
        """,
        [],
    ),
    (
        "movements without a stock row",
        ("stock_level", "product", "warehouse", "on_hand", "Σ movements"),
        """
        SELECT NULL, m.product_id, m.warehouse_id, 0, SUM(m.quantity)
          FROM inventory_stockmovement m
          LEFT JOIN inventory_stocklevel s ON s.product_id = m.product_id AND s.warehouse_id = m.warehouse_id
         WHERE s.id IS NULL
         GROUP BY m.product_id, m.warehouse_id
         ORDER BY m.product_id, m.warehouse_id
        """,
        [],
    ),
    (
        "reserved outside 0…on_hand",
        ("stock_level", "product", "warehouse", "on_hand", "reserved"),
        """
        SELECT s.id, s.product_id, s.warehouse_id, s.on_hand, s.reserved
          FROM inventory_stocklevel s
         WHERE s.on_hand < 0 OR s.reserved < 0 OR s.reserved > s.on_hand
         ORDER BY s.product_id, s.warehouse_id
        """,
        [],
    ),
    (
        "reserved ≠ Σ open allocations",
        ("stock_level", "product", "warehouse", "reserved", "Σ allocations"),
        """
        SELECT s.id, COALESCE(s.product_id, a.product_id), COALESCE(s.warehouse_id, a.warehouse_id),
               COALESCE(s.reserved, 0), COALESCE(a.total, 0)
          FROM inventory_stocklevel s
          FULL OUTER JOIN (SELECT l.product_id, al.warehouse_id, SUM(al.quantity) AS total
                             FROM orders_allocation al JOIN orders_orderline l ON l.id = al.line_id
                            GROUP BY l.product_id, al.warehouse_id) a
            ON a.product_id = s.product_id AND a.warehouse_id = s.warehouse_id
         WHERE COALESCE(s.reserved, 0) <> COALESCE(a.total, 0)
         ORDER BY 2, 3
        """,
        [],
    ),
    (
        "allocation without an order line",
        ("allocation", "-", "warehouse", "line", "quantity"),
        """
        SELECT al.id, NULL, al.warehouse_id, al.line_id, al.quantity
          FROM orders_allocation al LEFT JOIN orders_orderline l ON l.id = al.line_id
         WHERE l.id IS NULL
        """,
        [],
    ),
    (
        "finished order still reserves stock",
        ("allocation", "order", "warehouse", "status", "reserved"),
        """
        SELECT al.id, o.number, al.warehouse_id, o.status, al.quantity
          FROM orders_allocation al
          JOIN orders_orderline l ON l.id = al.line_id
          JOIN orders_salesorder o ON o.id = l.order_id
         WHERE al.quantity > 0 AND o.status = ANY(%s)
         ORDER BY al.id
        """,
        [[status.value for status in FINISHED_STATUSES]],
    ),
    (
        "line allocated/shipped ≠ Σ its allocations",
        ("line", "order", "line_no", "allocated/shipped", "Σ allocations"),
        """
        SELECT l.id, l.order_id, l.line_no,
               l.quantity_allocated || '/' || l.quantity_shipped,
               COALESCE(a.reserved, 0) || '/' || COALESCE(a.shipped, 0)
          FROM orders_orderline l
          LEFT JOIN (SELECT line_id, SUM(quantity) AS reserved, SUM(quantity_shipped) AS shipped
                       FROM orders_allocation GROUP BY line_id) a ON a.line_id = l.id
         WHERE l.quantity_allocated <> COALESCE(a.reserved, 0)
            OR l.quantity_shipped <> COALESCE(a.shipped, 0)
         ORDER BY l.id
        """,
        [],
    ),
    (
        "shipment movements ≠ Σ allocations shipped",
        ("-", "product", "warehouse", "issued by ledger", "shipped by allocations"),
        """
        SELECT NULL, COALESCE(m.product_id, a.product_id), COALESCE(m.warehouse_id, a.warehouse_id),
               COALESCE(m.issued, 0), COALESCE(a.shipped, 0)
          FROM (SELECT product_id, warehouse_id, -SUM(quantity) AS issued
                  FROM inventory_stockmovement WHERE kind = 'shipment'
                 GROUP BY product_id, warehouse_id) m
          FULL OUTER JOIN (SELECT l.product_id, al.warehouse_id, SUM(al.quantity_shipped) AS shipped
                             FROM orders_allocation al JOIN orders_orderline l ON l.id = al.line_id
                            GROUP BY l.product_id, al.warehouse_id) a
            ON a.product_id = m.product_id AND a.warehouse_id = m.warehouse_id
         WHERE COALESCE(m.issued, 0) <> COALESCE(a.shipped, 0)
         ORDER BY 2, 3
        """,
        [],
    ),
]


def stock_invariant_violations(*, ledger_chain: bool = True, limit: int = 20) -> list[str]:
    """Every broken invariant as one line (at most `limit` per rule); [] when all hold."""
    problems: list[str] = []
    with connection.cursor() as cursor:
        for rule, columns, sql, params in _CHECKS:
            cursor.execute(f"{sql} LIMIT {int(limit)}", params)
            for row in cursor.fetchall():
                shown = ", ".join(f"{name}={value}" for name, value in zip(columns, row, strict=True) if name != "-")
                problems.append(f"{rule}: {shown}")
    if ledger_chain:
        from inventory.selectors import verify_ledger

        problems.extend(f"ledger: {drift.describe()}" for drift in verify_ledger()[:limit])
    return problems


def assert_stock_invariants(*, ledger_chain: bool = True) -> None:
    """Raise AssertionError listing every broken invariant (for tests and benchmarks)."""
    problems = stock_invariant_violations(ledger_chain=ledger_chain)
    if problems:
        raise AssertionError("stock invariants broken:\n  " + "\n  ".join(problems))
