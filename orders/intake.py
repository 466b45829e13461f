"""The database side of order intake's hot path: one read, then one statement that writes the
order and, last, reserves its stock (inventory's all-or-none reservation) — two round trips, no
BEGIN/COMMIT of their own. Used only by orders.services.place_order.

Order intake is the busiest write in the system, and on a small machine its cost is mostly the
ORM's per-query work, not PostgreSQL's: so the read gathers in one statement what would take
five queries (channel, duplicate check, customer, products, stock with warehouses), and the
write puts address, order, lines, allocations, events and the outbox message into one
multi-table INSERT built from the models' own field definitions (every concrete column,
prepared by its field, as `bulk_create` would) — no hand-kept column lists to drift from the
models. Each table's rows
travel as one JSON parameter (json_populate_record casts them to the column types), so the
statement text depends only on the models and stays small.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.db.models.expressions import DatabaseDefault
from psycopg.types.json import Json, Jsonb

from core.models import OutboxMessage
from inventory import services as stock
from inventory.models import Product
from orders.allocation import WarehouseInfo
from orders.models import Address, Allocation, Channel, Customer, OrderEvent, OrderLine, SalesOrder


def _cursor() -> Any:
    """A cursor for intake's two statements (a context manager, logged like any Django cursor).

    Their text depends only on the models (the values are parameters), so they are worth
    preparing — PostgreSQL otherwise plans the multi-table INSERT on every order. Django turns
    psycopg's prepared statements off (connection poolers in transaction mode lose them); where
    DATABASES OPTIONS sets `prepare_threshold` (PgBouncer ≥ 1.21 with max_prepared_statements,
    or no pooler), intake uses a server-side-binding cursor that psycopg prepares after that
    many executions. Otherwise, Django's usual client-side-binding cursor.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the thread's connection, looked up once
    db.ensure_connection()
    if db.connection.prepare_threshold is None:
        return db.cursor()
    return db._prepare_cursor(psycopg.Cursor(db.connection))


# --- the read ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class IntakeRead:
    """What intake knows before its transaction: a committed snapshot, read without locks.

    `available` ({product_id: {warehouse_id: units}}) covers the active warehouses listed in
    `warehouses` that stock these products; it may be stale by the time the order reserves —
    the guarded reservation (inventory.services.reservation_sql) has the last word.
    """

    channel: Channel | None
    existing_order_id: int | None
    customer: Customer | None
    products: dict[str, Product]
    warehouses: list[WarehouseInfo]
    available: dict[int, dict[int, int]]

    def covers(self, lines: Sequence[Any]) -> bool:
        """True if the snapshot holds enough units for every line (all warehouses together)."""
        wanted: dict[int, int] = defaultdict(int)
        for line in lines:
            wanted[self.products[line.sku.strip()].pk] += line.quantity
        return all(sum(self.available.get(pid, {}).values()) >= quantity for pid, quantity in wanted.items())


# The products are looked up once, by one index probe per SKU (a join from the SKU list: with
# `sku = ANY(…)` PostgreSQL may prefer scanning a small product table, twice), and reused.
_READ_SQL = """
WITH wanted AS MATERIALIZED (
    SELECT p.id, p.sku, p.list_price, p.active
      FROM unnest(%(skus)s::text[]) AS req(sku)
      JOIN inventory_product p ON p.sku = req.sku
)
SELECT
    (SELECT json_build_array(c.id, c.code, c.name, c.kind, c.allocation_strategy, c.active)
       FROM orders_channel c WHERE c.code = %(channel)s AND c.active),
    (SELECT o.id FROM orders_salesorder o JOIN orders_channel c ON c.id = o.channel_id
      WHERE c.code = %(channel)s AND o.external_ref = %(external_ref)s AND o.external_ref <> ''),
    (SELECT json_build_array(cu.id, cu.name, cu.email, cu.phone)
       FROM orders_customer cu WHERE lower(cu.email) = %(email)s),
    (SELECT json_agg(json_build_array(p.id, p.sku, p.list_price::text, p.active)) FROM wanted p),
    (SELECT json_agg(json_build_array(s.product_id, s.warehouse_id, s.on_hand - s.reserved, w.code,
                                      w.priority, w.handling_days, w.latitude::float8, w.longitude::float8))
       FROM wanted p
       JOIN inventory_stocklevel s ON s.product_id = p.id
       JOIN inventory_warehouse w ON w.id = s.warehouse_id AND w.active)
"""

_CHANNEL_FIELDS = ["id", "code", "name", "kind", "allocation_strategy", "active"]
_CUSTOMER_FIELDS = ["id", "name", "email", "phone"]
_PRODUCT_FIELDS = ["id", "sku", "list_price", "active"]


def _partial(model: type[models.Model], names: list[str], values: Sequence[Any]) -> Any:
    """A model instance with only these fields loaded (the others load on access)."""
    given = dict(zip(names, values, strict=True))
    field_names = [f.attname for f in model._meta.concrete_fields if f.attname in given]
    return model.from_db(DEFAULT_DB_ALIAS, field_names, [given[name] for name in field_names])


def read(*, channel: str, external_ref: str, email: str, skus: set[str]) -> IntakeRead:
    """Channel, duplicate order, customer, products and their stock — one query, no locks."""
    with _cursor() as cursor:
        cursor.execute(
            _READ_SQL,
            {"channel": channel, "external_ref": external_ref, "email": email.lower(), "skus": sorted(skus)},
        )
        channel_row, existing_order_id, customer_row, product_rows, stock_rows = cursor.fetchone()
    products = {}
    for product_id, sku, list_price, active in product_rows or []:
        products[sku] = _partial(Product, _PRODUCT_FIELDS, [product_id, sku, Decimal(list_price), active])
    warehouses: dict[int, WarehouseInfo] = {}
    available: dict[int, dict[int, int]] = defaultdict(dict)
    for product_id, warehouse_id, units, code, priority, handling_days, lat, lon in stock_rows or []:
        available[product_id][warehouse_id] = units
        warehouses.setdefault(
            warehouse_id,
            WarehouseInfo(id=warehouse_id, code=code, priority=priority, handling_days=handling_days,
                          latitude=lat, longitude=lon),
        )
    return IntakeRead(
        channel=_partial(Channel, _CHANNEL_FIELDS, channel_row) if channel_row else None,
        existing_order_id=existing_order_id,
        customer=_partial(Customer, _CUSTOMER_FIELDS, customer_row) if customer_row else None,
        products=products,
        warehouses=list(warehouses.values()),
        available=dict(available),
    )


# --- the write --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _InsertShape:
    """What an INSERT of one model writes; worked out once per model and set of columns."""

    fields: tuple[models.Field, ...]
    sql: str  # the CTE body with a {links} slot and one %s: the rows as a JSON array
    # Per field, the value types it writes unchanged (None: always prepare it through the field).
    plain: tuple[tuple[type, ...] | None, ...]


# Field classes (exactly these, not subclasses, which may override) whose pre_save is the
# attribute and whose get_db_prep_save returns a value of these types unchanged on PostgreSQL:
# CharField/TextField str() a str, the integer fields int() an int, BooleanField keeps a bool,
# a ForeignKey to an integer key passes the int to that key's field. Anything else (enums,
# Decimals, datetimes, lazy strings, custom fields) goes through the field as bulk_create does.
_NONE = type(None)
_PLAIN_TYPES: dict[type, tuple[type, ...]] = {
    models.CharField: (str, _NONE),
    models.TextField: (str, _NONE),
    models.IntegerField: (int, _NONE),
    models.PositiveIntegerField: (int, _NONE),
    models.PositiveSmallIntegerField: (int, _NONE),
    models.SmallIntegerField: (int, _NONE),
    models.BigIntegerField: (int, _NONE),
    models.BooleanField: (bool, _NONE),
}
_INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField)


def _plain_types(field: models.Field) -> tuple[type, ...] | None:
    if type(field) is models.ForeignKey:
        return (int, _NONE) if type(field.target_field) in _INTEGER_KEYS else None
    return _PLAIN_TYPES.get(type(field))


_shapes: dict[tuple, _InsertShape] = {}


@functools.cache
def _with_db_default(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if f.db_default is not models.NOT_PROVIDED)


def _shape(
    name: str, model: type[models.Model], sample: models.Model, links: dict[str, str], also_return: tuple[str, ...]
) -> _InsertShape:
    """All concrete columns except the primary key, generated columns, columns left to their
    database default (as in `sample`), and `links` (filled from SQL, last)."""
    # Only fields with a db_default can hold a DatabaseDefault: look at those on the sample.
    left_to_database = tuple(
        attname for attname in _with_db_default(model) if isinstance(getattr(sample, attname), DatabaseDefault)
    )
    key = (name, model, left_to_database, tuple(links.items()), also_return)
    shape = _shapes.get(key)
    if shape is None:
        fields = tuple(
            f for f in model._meta.concrete_fields
            if not f.primary_key and not f.generated and f.attname not in links
            and f.attname not in left_to_database
        )
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        table = quote(model._meta.db_table)
        columns = [quote(f.column) for f in fields] + [quote(model._meta.get_field(a).column) for a in links]
        values = [f"r.{quote(f.column)}" for f in fields] + list(links.values())
        returning = ", ".join([_returning(model), *(quote(column) for column in also_return)])
        # Identifiers come from model metadata; the rows are one parameter. json_populate_record
        # casts each value to its column's type; WITH ORDINALITY keeps the given order, so the
        # identity values come out in it.
        shape = _shapes[key] = _InsertShape(
            fields=fields,
            plain=tuple(_plain_types(f) for f in fields),
            sql=(
                f"{name} AS (INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                f"SELECT {', '.join(values)} FROM json_array_elements(%s::json) WITH ORDINALITY AS e(doc, n) "
                f"CROSS JOIN LATERAL json_populate_record(NULL::{table}, e.doc) AS r ORDER BY e.n "
                f"RETURNING {returning})"
            ),
        )
    return shape


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Json | Jsonb):
        return value.obj
    raise TypeError(f"{type(value).__name__} has no JSON form for orders.intake")


def _insert_cte(
    name: str, model: type[models.Model], objs: Sequence[models.Model], links: dict[str, str] | None = None,
    *, keys: dict[str, list[Any]] | None = None, also_return: Sequence[str] = (),
) -> tuple[str, str]:
    """(`name AS (INSERT INTO table (…) SELECT … RETURNING <db_returning columns>)`, rows as JSON).

    Values are prepared as Model.save/bulk_create prepare them (`pre_save`, then
    `get_db_prep_save`). `links` gives per column an SQL expression for its value, e.g. the id
    returned by an earlier part of the statement (`e.doc->>'key'` reads a per-row `keys` entry);
    `also_return` names columns later parts of the statement look up.
    """
    links = links or {}
    shape = _shape(name, model, objs[0], links, tuple(also_return))
    db = connections[DEFAULT_DB_ALIAS]  # resolve the thread-local proxy once, not per value
    docs = []
    for obj in objs:
        doc = {}
        for field, plain in zip(shape.fields, shape.plain, strict=True):
            if plain is not None:
                value = getattr(obj, field.attname)
                if type(value) in plain:  # exact types: bool is no int here, an enum no str
                    doc[field.column] = value
                    continue
            doc[field.column] = field.get_db_prep_save(field.pre_save(obj, add=True), connection=db)
        docs.append(doc)
    for key, values in (keys or {}).items():
        for doc, value in zip(docs, values, strict=True):
            doc[key] = value
    return shape.sql, json.dumps(docs, default=_json_value)


@functools.cache
def _returning(model: type[models.Model]) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(quote(f.column) for f in model._meta.db_returning_fields)


def _set_returned(objs: Sequence[models.Model], rows: Sequence[Sequence[Any]]) -> None:
    for obj, values in zip(objs, rows, strict=True):
        for field, value in zip(type(obj)._meta.db_returning_fields, values, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


class StockMoved(Exception):
    """The stock the snapshot promised is gone: the statement failed and wrote nothing."""


def write(
    *, address: Address, order: SalesOrder, lines: Sequence[OrderLine], allocations: Sequence[Allocation],
    events: Sequence[OrderEvent], message: OutboxMessage, reservations: Sequence[stock.StockLine],
) -> None:
    """Insert a new order with its ship-to address, lines, allocations, events and outbox
    message, then reserve its stock — one statement (at top level its own transaction) — and
    fill in the ids and database-computed values (order number, backordered quantities) on
    the given objects.

    The reservation (inventory.services.reservation_sql) comes last: the order row, with its
    channel + external_ref key, goes in before any stock lock, and the stock rows stay locked
    only from the end of the statement to its commit. If the stock is no longer there the
    statement fails, writes nothing, and StockMoved is raised.
    """
    returns = {"address": Address, "sales_order": SalesOrder, "line": OrderLine, "event": OrderEvent,
               "outbox": OutboxMessage}
    order_id = "(SELECT id FROM sales_order)"
    parts = [
        _insert_cte("address", Address, [address]),
        _insert_cte("sales_order", SalesOrder, [order], {"ship_to_id": "(SELECT id FROM address)"}),
        _insert_cte("line", OrderLine, lines, {"order_id": order_id}, also_return=["line_no"]),
        _insert_cte("event", OrderEvent, events, {"order_id": order_id}),
        _insert_cte("outbox", OutboxMessage, [message], {"kwargs": f"jsonb_build_object('order_id', {order_id})"}),
    ]
    params = [rows for _, rows in parts]
    ctes = [part for part, _ in parts]
    check = ""
    if allocations:
        returns["allocation"] = Allocation
        parts.append(_insert_cte(
            "allocation", Allocation, allocations,
            {"line_id": "(SELECT line.id FROM line WHERE line.line_no = (e.doc->>'line_no')::integer)"},
            keys={"line_no": [allocation.line.line_no for allocation in allocations]},
        ))
        ctes.append(parts[-1][0])
        params.append(parts[-1][1])
        # every INSERT (the others through allocation's links) runs before the first stock lock
        reservation = stock.reservation_sql(
            lines=reservations,
            after="(SELECT count(*) FROM allocation) > 0 AND (SELECT count(*) FROM event) > 0 "
                  "AND (SELECT count(*) FROM outbox) > 0",
        )
        ctes.append(reservation.ctes)
        params.extend(reservation.params)
        check = f"SELECT 'reserved', json_build_array({reservation.check}) UNION ALL "
    sql = "WITH {ctes} {check}{selects}".format(
        ctes=", ".join(ctes),
        check=check,
        selects=" UNION ALL ".join(
            # CTE names and columns from model metadata
            f"SELECT '{cte}', json_agg(json_build_array({_returning(model)})) FROM {cte}"  # noqa: S608
            for cte, model in returns.items()
        ),
    )
    try:
        with _cursor() as cursor:
            cursor.execute(sql, params)
            returned = dict(cursor.fetchall())
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == stock.STOCK_MOVED_SQLSTATE:
            raise StockMoved from exc
        raise
    # Each INSERT takes its rows in the given order (ORDER BY e.n), so their identity values
    # ascend in that order and ids sorted ascending line up with the objects as given.
    _set_returned([address], returned["address"])
    order.ship_to = address
    _set_returned([order], returned["sales_order"])
    for line in lines:
        line.order = order
    _set_returned(lines, sorted(returned["line"]))
    for event in events:
        event.order = order
    _set_returned(events, sorted(returned["event"]))
    if allocations:
        for allocation in allocations:
            allocation.line_id = allocation.line.pk
        _set_returned(allocations, sorted(returned["allocation"]))
    _set_returned([message], returned["outbox"])
    message.kwargs = {"order_id": order.pk}
