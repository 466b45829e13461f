"""`replenishment`: 100,000 reorder policies (20,000 products x 5 warehouses), 90 days of history.

In its own database (`<configured name>_replenishment`, emptied first, dropped at the end unless
`--keep`), the data is loaded with COPY: products, 5 warehouses, 40 suppliers with ~2 offers per
product (MOQ, pack sizes, price breaks, one catalogue-preferred offer for a third of the products),
stock levels, and one shipment ledger row per product x warehouse x day with demand over the
last 90 days (the synthetic demand of bench/forecast.py: 60 % intermittent) plus an opening
balance, so on_hand = the sum of the ledger. 80 % of the policies are `reorder_point`, 20 %
`min_max`; stock is drawn so that roughly a third are due.

Then, in the same run:
  sql     — the limit: ONE hand-written SQL statement that computes every reorder quantity the
            planner would (demand mean/sigma of the 90 days, lead time of the preferred / fastest offer,
            ROP + safety stock, order-up-to, supplier choice with price breaks and landed cost,
            MOQ/pack rounding), fetched to the client;
  planner — `suppliers.planner.run_replenishment()` over all policies, including its demand
            forecast and the draft purchase orders it writes;
            after a warm-up, sql and planner alternate twice from the same state (the planner's
            orders deleted before each pair), and each figure is the better of its two runs;
  check   — the same statement fed with the planner's own demand figures (its forecast, as floats)
            instead of the plain history, against the stock before the run: `mismatched` counts
            policies where it and the planner disagree on supplier, quantity or unit cost (0);
  second  — the planner again: `second_run_lines` must be 0 (on-order counts);
  incr.   — 1 % of the products (all their warehouses) ship more today; the planner runs with
            `product_ids` of those: `incremental_ratio` = its time / the full run's.

    python3 -m scoms bench replenishment [--products=20000] [--keep] [--profile]

`--profile` runs the full planner under cProfile and prints the top functions to stderr.
Closing line: `BENCH replenishment policies=… planner_s=… sql_s=… ratio=… second_run_lines=…
incremental_ratio=…` (+ created lines, POs, the check and the load time).
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
from datetime import datetime, time, timedelta
from decimal import Decimal
from statistics import NormalDist
from typing import Any

import numpy as np

from bench._util import (
    Stopwatch,
    bench_database_url,
    bench_line,
    claim_database,
    flag,
    log,
    psycopg_conninfo,
    setup_django,
)
from bench.forecast import synthetic_demand

NAME = "replenishment"
WAREHOUSES = 5
HISTORY_DAYS = 90
SUPPLIERS = 40
CHANGED_SHARE = 0.01
SEED = 11
MOVEMENT_COLUMNS = ("product_id", "warehouse_id", "kind", "quantity", "balance_after", "reason", "reference",
                    "user_id", "created_at", "hash")


# --- the database -----------------------------------------------------------------------------
def fresh_database() -> str:
    """Point Django at the benchmark's own database, migrated and emptied."""
    url = setup_django(NAME)
    from django.db import connection

    tables = [
        "suppliers_purchaseorderevent", "suppliers_goodsreceiptline", "suppliers_goodsreceipt",
        "suppliers_purchaseorderline", "suppliers_purchaseorder", "suppliers_reorderpolicy",
        "suppliers_supplierpricebreak", "suppliers_supplierproduct", "suppliers_supplier",
        "inventory_stockmovement", "inventory_stocklevel", "inventory_product", "inventory_warehouse",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_name = ANY(%s)", [tables],
        )
        present = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"TRUNCATE {', '.join(present)} RESTART IDENTITY CASCADE")
    return url


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    info = psycopg_conninfo(url)
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
        # DROP DATABASE waits until every backend of the server has absorbed a signal barrier; a
        # long statement of someone else can hold that for minutes. Give up after a while: the
        # result is printed already and the next run empties the database anyway.
        conn.execute("SET statement_timeout = '60s'")
        try:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(info["dbname"])))
        except psycopg.errors.QueryCanceled:
            log(f"could not drop {info['dbname']} within 60 s (busy server); the next run empties it")


def copy_rows(table: str, columns: list[str], rows: Any) -> None:
    """COPY rows (tuples of Python values; None → NULL) into `table`."""
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def copy_text(table: str, columns: list[str], text: str) -> None:
    """COPY an already formatted tab-separated text block."""
    from django.db import connection

    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(text)


def copy_models(model: Any, objects: list[Any]) -> list[int]:
    """COPY unsaved model instances (every concrete column but the id and generated ones); returns
    the new ids in order.

    Columns come from the model, so defaults and auto_now fields are filled as Django would.
    """
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        before = cursor.fetchone()[0]
    copy_rows(
        table, [f.column for f in fields],
        ([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objects),
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE id > %s ORDER BY id", [before])
        return [row[0] for row in cursor.fetchall()]


@contextlib.contextmanager
def indexes_dropped(table: str) -> Any:
    """Load without index maintenance (as pg_restore does): drop the secondary indexes, then
    build them again from their own definitions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = %s AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", [table],
        )
        definitions = cursor.fetchall()
        for name, _definition in definitions:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _name, definition in definitions:
                cursor.execute(definition)


# --- the data ---------------------------------------------------------------------------------
def build_data(products: int) -> dict[str, Any]:
    """Load the whole data set; returns ids and figures the phases need."""
    from django.db import connection
    from django.utils import timezone

    from inventory.models import Product, StockLevel, Warehouse
    from suppliers.models import ReorderPolicy, Supplier, SupplierPriceBreak, SupplierProduct

    rng = np.random.default_rng(SEED)
    today = timezone.localdate()
    first_day = today - timedelta(days=HISTORY_DAYS)

    warehouse_ids = copy_models(Warehouse, [
        Warehouse(code=f"RB-W{index}", name=f"Replenishment bench {index}", priority=10 * index)
        for index in range(1, WAREHOUSES + 1)
    ])
    product_ids = copy_models(Product, [
        Product(sku=f"RB-{index:06d}", name=f"Bench product {index}", list_price=Decimal("10.00"))
        for index in range(1, products + 1)
    ])
    supplier_ids = copy_models(Supplier, [
        Supplier(code=f"rb-s{index:02d}", name=f"Bench supplier {index}", default_lead_time_days=int(rng.integers(5, 21)),
                 landed_cost_percent=Decimal(int(rng.integers(0, 15))))
        for index in range(1, SUPPLIERS + 1)
    ])

    # Catalogue: 1-3 offers per product; a third of the products have a preferred offer.
    offers: list[SupplierProduct] = []
    suppliers_of: dict[int, list[int]] = {}
    for product_id in product_ids:
        count = int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3]))
        chosen = rng.choice(len(supplier_ids), size=count, replace=False)
        preferred_index = int(rng.integers(count)) if rng.random() < 0.33 else -1
        base = Decimal(int(rng.integers(100, 5000))) / 100
        for position, supplier_index in enumerate(chosen):
            offers.append(SupplierProduct(
                supplier_id=supplier_ids[supplier_index], product_id=product_id,
                supplier_sku=f"S{supplier_index}-{product_id}",
                cost=(base * Decimal(str(round(float(rng.uniform(0.85, 1.15)), 2)))).quantize(Decimal("0.0001")),
                minimum_order_quantity=int(rng.choice([1, 1, 5, 10, 24])),
                pack_size=int(rng.choice([1, 1, 1, 6, 12])),
                lead_time_days=None if rng.random() < 0.3 else int(rng.integers(3, 31)),
                preferred=position == preferred_index,
            ))
            suppliers_of.setdefault(product_id, []).append(supplier_ids[supplier_index])
    offer_ids = copy_models(SupplierProduct, offers)
    breaks: list[SupplierPriceBreak] = []
    for offer_id, offer in zip(offer_ids, offers, strict=True):
        if rng.random() < 0.3:
            for step, (threshold, discount) in enumerate(((50, "0.95"), (200, "0.90"))):
                if step == 0 or rng.random() < 0.5:
                    breaks.append(SupplierPriceBreak(
                        supplier_product_id=offer_id, min_quantity=threshold,
                        unit_cost=(offer.cost * Decimal(discount)).quantize(Decimal("0.0001")),
                    ))
    copy_models(SupplierPriceBreak, breaks)

    # Demand history: product-major pairs, the forecast bench's series (60 % intermittent).
    pairs = [(product_id, warehouse_id) for product_id in product_ids for warehouse_id in warehouse_ids]
    matrix, _intermittent = synthetic_demand(len(pairs), HISTORY_DAYS, seed=SEED)
    matrix = matrix.astype(np.int64)
    mean = matrix.mean(axis=1)
    cover_days = rng.uniform(0, 40, size=len(pairs))  # roughly a third end up at or below their ROP
    on_hand = np.where(mean > 0, np.round(mean * cover_days), rng.integers(0, 30, size=len(pairs))).astype(np.int64)
    opening = on_hand + matrix.sum(axis=1)
    balance = opening[:, None] - np.cumsum(matrix, axis=1)
    pair_products = [product_id for product_id, _ in pairs]
    pair_warehouses = [warehouse_id for _, warehouse_id in pairs]

    zone = timezone.get_current_timezone()
    opening_at = timezone.make_aware(datetime.combine(first_day - timedelta(days=1), time(8)), zone).isoformat()
    day_at = [
        timezone.make_aware(datetime.combine(first_day + timedelta(days=offset), time(12)), zone).isoformat()
        for offset in range(HISTORY_DAYS)
    ]
    columns = list(MOVEMENT_COLUMNS)
    with Stopwatch() as watch, indexes_dropped("inventory_stockmovement"):
        copy_text("inventory_stockmovement", columns, "".join(
            f"{product}\t{warehouse}\topening_balance\t{amount}\t{amount}\t\tbench\t\\N\t{opening_at}\tbench\n"
            for product, warehouse, amount in zip(pair_products, pair_warehouses, opening.tolist(), strict=True)
            if amount > 0
        ))
        pair_index, day_index = np.nonzero(matrix)
        chunk = 500_000
        for start in range(0, pair_index.size, chunk):
            rows, days = pair_index[start:start + chunk], day_index[start:start + chunk]
            copy_text("inventory_stockmovement", columns, "".join(
                f"{pair_products[pair]}\t{pair_warehouses[pair]}\tshipment\t{-quantity}\t{after}\t\tbench\t\\N\t"
                f"{day_at[day]}\tbench\n"
                for pair, quantity, after, day in zip(
                    rows.tolist(), matrix[rows, days].tolist(), balance[rows, days].tolist(), days.tolist(), strict=True,
                )
            ))
    movements = int((opening > 0).sum() + pair_index.size)
    log(f"ledger: {movements:,} movements copied in {watch.seconds:.1f} s")

    copy_models(StockLevel, [
        StockLevel(product_id=product_id, warehouse_id=warehouse_id, on_hand=int(on_hand[index]), reserved=0,
                   ledger_hash="bench")
        for index, (product_id, warehouse_id) in enumerate(pairs)
    ])

    policies = []
    service_levels = [Decimal("0.90"), Decimal("0.95"), Decimal("0.98")]
    for index, (product_id, warehouse_id) in enumerate(pairs):
        daily = float(mean[index])
        choices = suppliers_of[product_id]
        preferred_supplier = choices[int(rng.integers(len(choices)))] if rng.random() < 0.15 else None
        if rng.random() < 0.2:
            minimum = math.ceil(daily * 10)
            policies.append(ReorderPolicy(
                product_id=product_id, warehouse_id=warehouse_id, method="min_max", min_quantity=minimum,
                max_quantity=minimum + math.ceil(daily * 14) + 1, review_period_days=7,
                preferred_supplier_id=preferred_supplier,
            ))
        else:
            policies.append(ReorderPolicy(
                product_id=product_id, warehouse_id=warehouse_id, method="reorder_point",
                service_level=service_levels[int(rng.integers(3))], review_period_days=7,
                preferred_supplier_id=preferred_supplier,
            ))
    copy_models(ReorderPolicy, policies)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"product_ids": product_ids, "warehouse_ids": warehouse_ids, "policies": len(policies),
            "movements": movements}


# --- the limit: one SQL statement ---------------------------------------------------------------
# Every reorder quantity the planner computes, in one statement: demand mean and sample sigma of the
# daily shipments, the planning lead time (policy's preferred supplier, else the catalogue's
# preferred offer, else the fastest), ROP = mean·L + z·sigma·√L (at least min), order-up-to = ROP +
# mean·review period (at least max), due when available + on order ≤ ROP; the supplier (policy's
# preferred, else catalogue preferred, else the cheapest landed cost for the MOQ/pack-rounded
# quantity with price breaks, ties to the shorter lead time), resized with the chosen offer's lead
# time when that differs from the planning one. z per service level comes in as a VALUES list.
LIMIT_SQL = """
WITH {history}, on_order AS (
    SELECT l.product_id, l.warehouse_id, SUM(GREATEST(l.quantity - l.quantity_received, 0)) AS quantity
      FROM suppliers_purchaseorderline l
      JOIN suppliers_purchaseorder po ON po.id = l.purchase_order_id
     WHERE po.status IN ('draft', 'sent', 'acknowledged', 'partially_received') {on_order_filter}
     GROUP BY 1, 2
), offers AS NOT MATERIALIZED (
    SELECT sp.id, sp.product_id, sp.supplier_id, sp.cost, sp.minimum_order_quantity AS moq, sp.pack_size AS pack,
           COALESCE(sp.lead_time_days, s.default_lead_time_days)::float8 AS lead, sp.preferred,
           s.landed_cost_percent AS landed
      FROM suppliers_supplierproduct sp
      JOIN suppliers_supplier s ON s.id = sp.supplier_id
     WHERE sp.active AND s.active
), z (service_level, z) AS (
    VALUES {z_values}
), policy AS (
    SELECT p.id, p.product_id, p.warehouse_id, p.method, p.min_quantity, p.max_quantity,
           GREATEST(p.review_period_days, 1) AS review, p.preferred_supplier_id, z.z,
           COALESCE(st.available, 0) + COALESCE(o.quantity, 0) AS position,
           CASE WHEN p.method = 'reorder_point' THEN COALESCE(h.mean, 0) ELSE 0 END AS mean,
           CASE WHEN p.method = 'reorder_point' THEN COALESCE(h.sigma, 0) ELSE 0 END AS sigma,
           basis.supplier_id AS basis_supplier, COALESCE(basis.lead, 0) AS basis_lead
      FROM suppliers_reorderpolicy p
      JOIN inventory_product pr ON pr.id = p.product_id
      JOIN z ON z.service_level = p.service_level
      LEFT JOIN inventory_stocklevel st ON st.product_id = p.product_id AND st.warehouse_id = p.warehouse_id
      LEFT JOIN on_order o ON o.product_id = p.product_id AND o.warehouse_id = p.warehouse_id
      LEFT JOIN history h ON h.product_id = p.product_id AND h.warehouse_id = p.warehouse_id
      LEFT JOIN LATERAL (
            SELECT f.supplier_id, f.lead FROM offers f
             WHERE f.product_id = p.product_id
             ORDER BY (f.supplier_id = p.preferred_supplier_id) IS TRUE DESC, f.preferred DESC, f.lead, f.supplier_id
             LIMIT 1
           ) basis ON true
     WHERE p.active AND pr.active
), due AS (
    SELECT pol.*, GREATEST(lv.up_to - pol.position, 0) AS need
      FROM policy pol
     CROSS JOIN LATERAL (
            SELECT CASE WHEN pol.method = 'min_max' THEN pol.min_quantity
                        ELSE GREATEST(ceil(pol.mean * pol.basis_lead + pol.z * pol.sigma * sqrt(pol.basis_lead) - 1e-9)::bigint,
                                      pol.min_quantity) END AS rop
           ) r
     CROSS JOIN LATERAL (
            SELECT CASE WHEN pol.method = 'min_max' THEN pol.max_quantity
                        ELSE GREATEST(r.rop + ceil(pol.mean * pol.review - 1e-9)::bigint, pol.max_quantity) END AS up_to
           ) lv
     WHERE pol.position <= r.rop AND lv.up_to > pol.position
), chosen AS (
    SELECT d.*, c.offer_id, c.supplier_id, c.lead, c.moq, c.pack, c.cost, c.quantity AS first_quantity,
           c.unit_cost AS first_unit_cost
      FROM due d
     CROSS JOIN LATERAL (
            SELECT f.id AS offer_id, f.supplier_id, f.lead, f.moq, f.pack, f.cost, q.quantity, u.unit_cost
              FROM offers f
             CROSS JOIN LATERAL (SELECT (ceil(GREATEST(d.need, f.moq, 1)::numeric / f.pack) * f.pack)::bigint AS quantity) q
             CROSS JOIN LATERAL (
                    SELECT COALESCE((SELECT b.unit_cost FROM suppliers_supplierpricebreak b
                                      WHERE b.supplier_product_id = f.id AND b.min_quantity <= q.quantity
                                      ORDER BY b.min_quantity DESC LIMIT 1), f.cost) AS unit_cost
                   ) u
             WHERE f.product_id = d.product_id
             ORDER BY (f.supplier_id = d.preferred_supplier_id) IS TRUE DESC, f.preferred DESC,
                      round(u.unit_cost * q.quantity * (1 + f.landed / 100), 2), f.lead, f.supplier_id
             LIMIT 1
           ) c
), resized AS (
    SELECT ch.*,
           CASE WHEN ch.supplier_id IS NOT DISTINCT FROM ch.basis_supplier THEN ch.need
                WHEN ch.position > lv.rop THEN 0
                ELSE GREATEST(lv.up_to - ch.position, 0) END AS final_need
      FROM chosen ch
     CROSS JOIN LATERAL (
            SELECT r.rop, CASE WHEN ch.method = 'min_max' THEN ch.max_quantity
                               ELSE GREATEST(r.rop + ceil(ch.mean * ch.review - 1e-9)::bigint, ch.max_quantity) END AS up_to
              FROM (SELECT CASE WHEN ch.method = 'min_max' THEN ch.min_quantity
                                ELSE GREATEST(ceil(ch.mean * ch.lead + ch.z * ch.sigma * sqrt(ch.lead) - 1e-9)::bigint,
                                              ch.min_quantity) END AS rop) r
           ) lv
)
SELECT rs.id, rs.supplier_id, q.quantity,
       COALESCE((SELECT b.unit_cost FROM suppliers_supplierpricebreak b
                  WHERE b.supplier_product_id = rs.offer_id AND b.min_quantity <= q.quantity
                  ORDER BY b.min_quantity DESC LIMIT 1), rs.cost) AS unit_cost
  FROM resized rs
 CROSS JOIN LATERAL (SELECT (ceil(GREATEST(rs.final_need, rs.moq, 1)::numeric / rs.pack) * rs.pack)::bigint AS quantity) q
 WHERE rs.final_need > 0
"""


HISTORY_CTE = """daily AS (
    SELECT m.product_id, m.warehouse_id, (m.created_at AT TIME ZONE %(tz)s)::date AS day,
           -SUM(m.quantity)::float8 AS units
      FROM inventory_stockmovement m
     WHERE m.kind = 'shipment' AND m.created_at >= %(since)s AND m.created_at < %(until)s
     GROUP BY 1, 2, 3
), history AS (
    SELECT product_id, warehouse_id, SUM(units) / %(days)s AS mean,
           sqrt(GREATEST((SUM(units * units) - SUM(units) * SUM(units) / %(days)s) / (%(days)s - 1), 0)) AS sigma
      FROM daily
     GROUP BY 1, 2
)"""

# The check: the planner's own demand figures (floats, as it used them) instead of the history.
GIVEN_CTE = """history AS (
    SELECT * FROM unnest(%(given_products)s::bigint[], %(given_warehouses)s::bigint[], %(given_means)s::float8[],
                         %(given_sigmas)s::float8[]) AS g(product_id, warehouse_id, mean, sigma)
)"""


def limit_sql(*, demand: dict[tuple[int, int], Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The statement and its parameters. With `demand` ((product, warehouse) → .mean/.sigma) it
    uses those figures instead of the history and leaves the planner's own orders out of
    on-order: the check of the planner's decisions against the state before its run."""
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT service_level FROM suppliers_reorderpolicy")
        levels = [row[0] for row in cursor.fetchall()] or [Decimal("0.95")]
    z_values = ", ".join(f"({level}::numeric, {NormalDist().inv_cdf(float(level))!r}::float8)" for level in levels)
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    sql = LIMIT_SQL.format(
        history=HISTORY_CTE if demand is None else GIVEN_CTE,
        z_values=z_values,
        on_order_filter="" if demand is None else "AND po.source <> 'planner'",
    )
    params: dict[str, Any] = {
        "tz": timezone.get_current_timezone_name(),
        "since": timezone.make_aware(datetime.combine(today - timedelta(days=HISTORY_DAYS), time.min), zone),
        "until": timezone.make_aware(datetime.combine(today, time.min), zone),
        "days": HISTORY_DAYS,
    }
    if demand is not None:
        keys = list(demand)
        params.update(
            given_products=[product_id for product_id, _ in keys],
            given_warehouses=[warehouse_id for _, warehouse_id in keys],
            given_means=[float(demand[key].mean) for key in keys],
            given_sigmas=[float(demand[key].sigma) for key in keys],
        )
    return sql, params


def run_limit(*, demand: dict[tuple[int, int], Any] | None = None) -> dict[int, tuple[int, int, Decimal]]:
    """policy id → (supplier id, quantity, unit cost), fetched to the client."""
    from django.db import connection, transaction

    sql, params = limit_sql(demand=demand)
    with transaction.atomic(), connection.cursor() as cursor:
        # The limit at its best: JIT compilation costs seconds and buys nothing here; the
        # (pair, day) grouping of millions of ledger rows is faster sorted (in parallel) than
        # hashed, and sorts in memory with a larger work_mem.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '1GB'")
        cursor.execute("SET LOCAL enable_hashagg = off")
        cursor.execute(sql, params)
        return {row[0]: (row[1], int(row[2]), row[3]) for row in cursor.fetchall()}


def planner_demand() -> dict[tuple[int, int], Any]:
    """The demand figures the planner used (deterministic for the day: whole days of history)."""
    from django.db import connection

    from suppliers import forecasting

    with connection.cursor() as cursor:
        cursor.execute("SELECT product_id, warehouse_id FROM suppliers_reorderpolicy WHERE method = 'reorder_point'")
        pairs = cursor.fetchall()
    return forecasting.daily_demand_stats(product_warehouse_pairs=pairs)


# --- the phases -------------------------------------------------------------------------------
def planner_lines() -> dict[int, tuple[int, int, Decimal]]:
    """policy id → (supplier id, quantity, unit cost) of the planner's suggestion lines."""
    from suppliers.models import PurchaseOrderLine

    return {
        policy_id: (supplier_id, quantity, unit_cost)
        for policy_id, supplier_id, quantity, unit_cost in PurchaseOrderLine.objects.filter(
            suggestion=True
        ).values_list("policy_id", "purchase_order__supplier_id", "quantity", "unit_cost")
    }


def change_products(product_ids: list[int]) -> None:
    """Today's shipments for these products in every warehouse: half their stock goes out."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now().isoformat()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT product_id, warehouse_id, on_hand FROM inventory_stocklevel "
            "WHERE product_id = ANY(%s) AND on_hand > 1 ORDER BY product_id, warehouse_id", [product_ids],
        )
        rows = cursor.fetchall()
        copy_text("inventory_stockmovement", list(MOVEMENT_COLUMNS), "".join(
            f"{product}\t{warehouse}\tshipment\t{-(on_hand // 2)}\t{on_hand - on_hand // 2}\t\tbench-change\t\\N\t{now}\tbench\n"
            for product, warehouse, on_hand in rows
        ))
        cursor.execute(
            "UPDATE inventory_stocklevel SET on_hand = on_hand - on_hand / 2, updated_at = now() "
            "WHERE product_id = ANY(%s) AND on_hand > 1", [product_ids],
        )


def delete_planner_orders() -> None:
    """Back to the state before the planner ran: its draft orders, lines and events go."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        planner_orders = "SELECT id FROM suppliers_purchaseorder WHERE source = 'planner'"
        cursor.execute(f"DELETE FROM suppliers_purchaseorderevent WHERE purchase_order_id IN ({planner_orders})")
        cursor.execute(f"DELETE FROM suppliers_purchaseorderline WHERE purchase_order_id IN ({planner_orders})")
        cursor.execute("DELETE FROM suppliers_purchaseorder WHERE source = 'planner'")
        cursor.execute("ANALYZE suppliers_purchaseorderline")


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def compare(planner: dict[int, tuple[int, int, Decimal]], limit: dict[int, tuple[int, int, Decimal]]) -> int:
    """Policies where the planner and the SQL disagree on supplier, quantity or unit cost."""
    mismatched = 0
    for policy_id in planner.keys() | limit.keys():
        mine, theirs = planner.get(policy_id), limit.get(policy_id)
        if mine is None or theirs is None or mine[:2] != theirs[:2] or Decimal(mine[2]) != Decimal(theirs[2]):
            mismatched += 1
    return mismatched


def profiled(function: Any) -> Any:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(function)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(35)
    print(stream.getvalue(), file=sys.stderr)
    return result


def main(argv: list[str]) -> int:
    products = int(flag(argv, "products", "20000") or 20000)
    keep = "--keep" in argv
    profile = "--profile" in argv
    url = bench_database_url(NAME)
    claim_database(url, NAME)  # before the `finally` below may drop it: never another benchmark's
    try:
        return _run(products=products, profile=profile)
    finally:
        if not keep:
            with contextlib.suppress(Exception):
                drop_database(url)


def _run(*, products: int, profile: bool) -> int:
    fresh_database()
    with Stopwatch() as load:
        data = build_data(products)
    log(f"loaded {data['policies']:,} policies, {data['movements']:,} ledger rows in {load.seconds:.1f} s")

    try:
        from suppliers.planner import run_replenishment
    except ImportError as exc:
        run_limit()
        with Stopwatch() as sql_watch:
            limit = run_limit()
        log(f"suppliers.planner is not there yet ({exc}); only the limit was measured")
        bench_line(NAME, policies=data["policies"], planner_s=float("nan"), sql_s=sql_watch.seconds,
                   ratio=float("nan"), second_run_lines=-1, incremental_ratio=float("nan"), sql_lines=len(limit))
        return 1

    # Once per process, not per run: statsforecast's import and first-call set-up (a worker
    # process pays it once, at its first job) — and the same pages come into the cache.
    with Stopwatch() as warm:
        from suppliers.forecasting import forecast_demand

        forecast_demand(np.ones((3, 30)))
    run_limit()
    log(f"warm-up (imports, one limit run) {warm.seconds:.2f} s, not counted")

    # Limit and planner alternate, twice, from the same state (the planner's orders are deleted
    # before each of its runs): outside load on this shared machine hits both alike, and each
    # figure is the better of its two.
    sql_seconds: list[float] = []
    planner_seconds: list[float] = []
    for attempt in range(2):
        delete_planner_orders()
        with Stopwatch() as sql_watch:
            limit = run_limit()
        sql_seconds.append(sql_watch.seconds)
        with Stopwatch() as planner_watch:
            result = profiled(run_replenishment) if profile and attempt == 0 else run_replenishment()
        planner_seconds.append(planner_watch.seconds)
    sql_s, planner_s = min(sql_seconds), min(planner_seconds)
    log(f"sql limit: {len(limit):,} reorder lines in {sql_s:.2f} s (best of {_seconds(sql_seconds)})")
    log(f"planner: {result.created_lines:,} lines on {result.created_pos:,} draft POs in {planner_s:.2f} s "
        f"(best of {_seconds(planner_seconds)}; {result.below_reorder_level:,} at or below ROP, "
        f"{result.without_supplier:,} without supplier)")

    check = run_limit(demand=planner_demand())
    mismatched = compare(planner_lines(), check)
    log(f"check: the SQL fed with the planner's demand figures → {len(check):,} lines, {mismatched} mismatched")

    with Stopwatch() as second_watch:
        second = run_replenishment()
    log(f"second run: {second.created_lines} new lines, {second.updated_lines} updated in {second_watch.seconds:.2f} s")

    rng = np.random.default_rng(SEED + 1)
    changed = sorted(int(p) for p in rng.choice(data["product_ids"], size=max(1, round(products * CHANGED_SHARE)),
                                                 replace=False))
    change_products(changed)
    with Stopwatch() as incremental_watch:
        incremental = run_replenishment(product_ids=changed)
    log(f"incremental: {len(changed)} products changed → {incremental.created_lines} new, "
        f"{incremental.updated_lines} updated lines in {incremental_watch.seconds:.2f} s")

    ratio = planner_s / sql_s
    incremental_ratio = incremental_watch.seconds / planner_s
    print(f"replenishment: {data['policies']:,} policies; planner {planner_s:.2f} s vs one SQL statement "
          f"{sql_s:.2f} s (ratio {ratio:.2f}); second run {second.created_lines} lines; "
          f"incremental {incremental_watch.seconds:.2f} s ({incremental_ratio:.3f} of full); check mismatched {mismatched}")
    bench_line(
        NAME, policies=data["policies"], planner_s=planner_s, sql_s=sql_s, ratio=ratio,
        second_run_lines=second.created_lines, incremental_ratio=incremental_ratio,
        created_lines=result.created_lines, created_pos=result.created_pos, sql_lines=len(limit),
        mismatched=mismatched, second_run_s=second_watch.seconds, incremental_s=incremental_watch.seconds,
        load_s=load.seconds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
