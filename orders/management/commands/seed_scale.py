"""`seed_scale`: a large, consistent order history for benchmarks — a million orders in minutes.

    python3 -m scoms manage seed_scale --orders 1000000 [--customers 100000] [--products 5000]
                              [--days 365] [--chunk 50000] [--seed 1]

Adds (each run adds more) orders with ~3 lines each, spread over the last `--days` days with a
realistic mix: old orders mostly delivered or closed, some cancelled; recent ones allocated,
picking, partially shipped, backordered, on hold. Channels web/marketplace/store/phone (the
codes seed_demo uses), customers `scale-N@example.com` with one address each, products
`SCALE-00001`…, the active warehouses (three are created when there are none).

How it stays fast and correct:
- rows go in with COPY (psycopg 3 `cursor.copy`), one transaction per `--chunk` orders;
- every id and order number comes from its own sequence (`nextval` over a series, so ids never
  collide with concurrent writers and the sequences stay ahead — no setval needed); ids grow
  with `created_at`, as they would in production;
- every constraint holds: lines never allocate+ship+cancel more than ordered, statuses follow
  the transition table (each order's events walk its path), unique external refs per channel;
- stock is consistent with the orders, written through inventory.services in each chunk's
  transaction: per touched stock row one receipt (shipped + reserved, plus free units the first
  time), one reservation of what the open orders hold and what shipped, and one shipment issue
  of what shipped. So an interrupted run leaves a consistent database, and `on_hand` = Σ
  ledger, `reserved` = Σ open allocations, shipments in the ledger = Σ shipped allocations
  (orders.checks holds; verify_ledger is green). Backordered lines use
  "scarce" products (5 %) that keep nothing available, so backorders are real. The
  backorder-reallocation messages the receipts enqueue are marked processed: they are history.
"""

from __future__ import annotations

import bisect
import random
import secrets
import time
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from core.models import OutboxMessage
from inventory import services as stock
from inventory.models import MovementKind, Product, Warehouse
from orders import tasks
from orders.allocation import add_business_days
from orders.models import Channel
from orders.statuses import AllocationStrategy, ChannelKind, EventKind, OrderStatus

S = OrderStatus
SKU_PREFIX = "SCALE-"
EMAIL_PATTERN = "scale-{}@example.com"
# code, name, kind, strategy, share of orders
CHANNELS = [
    ("web", "Web shop", ChannelKind.WEB, AllocationStrategy.PRIORITY, 45),
    ("marketplace", "Tmall marketplace", ChannelKind.MARKETPLACE, AllocationStrategy.NEAREST, 25),
    ("store", "Shanghai flagship store", ChannelKind.STORE, AllocationStrategy.NEAREST, 15),
    ("phone", "Phone orders", ChannelKind.PHONE, AllocationStrategy.FEWEST_SPLITS, 15),
]
WAREHOUSES = [  # used only when there is no active warehouse
    ("SCALE-SH", "Shanghai DC", "Shanghai", Decimal("31.230400"), Decimal("121.473700"), 10, 1),
    ("SCALE-BJ", "Beijing DC", "Beijing", Decimal("39.904200"), Decimal("116.407400"), 20, 2),
    ("SCALE-GZ", "Guangzhou DC", "Guangzhou", Decimal("23.129100"), Decimal("113.264400"), 30, 2),
]
CITIES = [("Shanghai", "200000", "31.230400", "121.473700"), ("Beijing", "100000", "39.904200", "116.407400"),
          ("Guangzhou", "510000", "23.129100", "113.264400"), ("Shenzhen", "518000", "22.543100", "114.057900"),
          ("Hangzhou", "310000", "30.274100", "120.155100"), ("Chengdu", "610000", "30.572800", "104.066800"),
          ("Wuhan", "430000", "30.592800", "114.305500"), ("Nanjing", "210000", "32.060300", "118.796900")]
FAMILY_NAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun"]
GIVEN_NAMES = ["Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun", "Hui", "Xin", "Tao"]
# status mix by age: (minimum age in days, [(status, weight), …])
STATUS_MIX = [
    (30, [(S.DELIVERED, 58), (S.CLOSED, 28), (S.CANCELLED, 8), (S.SHIPPED, 4), (S.BACKORDERED, 2)]),
    (7, [(S.DELIVERED, 42), (S.SHIPPED, 24), (S.CANCELLED, 6), (S.PARTIALLY_SHIPPED, 6), (S.BACKORDERED, 9),
         (S.PARTIALLY_ALLOCATED, 5), (S.ALLOCATED, 5), (S.ON_HOLD, 3)]),
    (0, [(S.ALLOCATED, 24), (S.PICKING, 14), (S.SHIPPED, 14), (S.PARTIALLY_SHIPPED, 5), (S.BACKORDERED, 12),
         (S.PARTIALLY_ALLOCATED, 8), (S.CONFIRMED, 5), (S.ON_HOLD, 5), (S.CANCELLED, 4), (S.DELIVERED, 7),
         (S.DRAFT, 2)]),
]
# the statuses each order passes through after `draft` (its events)
PATHS: dict[str, list[str]] = {
    S.DRAFT: [],
    S.CONFIRMED: [S.CONFIRMED],
    S.ALLOCATED: [S.CONFIRMED, S.ALLOCATED],
    S.PARTIALLY_ALLOCATED: [S.CONFIRMED, S.PARTIALLY_ALLOCATED],
    S.BACKORDERED: [S.CONFIRMED, S.BACKORDERED],
    S.PICKING: [S.CONFIRMED, S.ALLOCATED, S.PICKING],
    S.PARTIALLY_SHIPPED: [S.CONFIRMED, S.ALLOCATED, S.PICKING, S.PARTIALLY_SHIPPED],
    S.SHIPPED: [S.CONFIRMED, S.ALLOCATED, S.PICKING, S.SHIPPED],
    S.DELIVERED: [S.CONFIRMED, S.ALLOCATED, S.PICKING, S.SHIPPED, S.DELIVERED],
    S.CLOSED: [S.CONFIRMED, S.ALLOCATED, S.PICKING, S.SHIPPED, S.DELIVERED, S.CLOSED],
    S.CANCELLED: [S.CONFIRMED, S.ALLOCATED, S.CANCELLED],
    S.ON_HOLD: [S.CONFIRMED, S.ALLOCATED, S.ON_HOLD],
}
# backordered lines have no promise (no supplier data here)
PROMISED = {S.ALLOCATED, S.PICKING, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.CLOSED, S.ON_HOLD}
LINE_COUNTS = [(1, 17), (2, 21), (3, 22), (4, 21), (5, 19)]  # ~3 lines per order

ORDER_COLUMNS = [
    "id", "number", "channel_id", "external_ref", "customer_id", "ship_to_id", "status", "status_before_hold",
    "currency", "subtotal", "total", "allow_backorder", "allocation_strategy", "requested_date", "promised_date",
    "tracking_token", "hold_reason", "cancel_reason", "notes", "created_by_id", "created_at", "updated_at",
]
LINE_COLUMNS = ["id", "order_id", "line_no", "product_id", "quantity", "unit_price", "quantity_allocated",
                "quantity_shipped", "quantity_cancelled"]
ALLOCATION_COLUMNS = ["id", "line_id", "warehouse_id", "quantity", "quantity_shipped", "created_at"]
EVENT_COLUMNS = ["id", "order_id", "kind", "from_status", "to_status", "message", "data", "actor_id", "created_at"]


class Weighted:
    """Fast weighted choice by bisecting cumulative weights."""

    def __init__(self, items: list[tuple[Any, float]]) -> None:
        self.values = [value for value, _ in items]
        self.cumulative = list(accumulate(weight for _, weight in items))

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


class Command(BaseCommand):
    help = "Load a large, consistent order history with COPY (benchmarks): python3 -m scoms manage seed_scale --orders 1000000"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--products", type=int, default=5_000)
        parser.add_argument("--days", type=int, default=365, help="history length")
        parser.add_argument("--chunk", type=int, default=100_000, help="orders per transaction")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        rng = random.Random(options["seed"])  # noqa: S311 — benchmark data, not security (tokens use secrets)
        total = options["orders"]
        if total < 1:
            self.stdout.write("nothing to do")
            return
        channels, warehouses, products, scarce = self._reference_data(rng, options["products"])
        customers = self._customers(rng, options["customers"])
        self.stdout.write(
            f"reference data ready: {len(products)} products, {len(customers)} customers, "
            f"{len(warehouses)} warehouses ({time.monotonic() - started:.0f} s)"
        )
        generator = _Generator(rng, channels, warehouses, products, scarce, customers, days=options["days"], total=total)
        counts: dict[str, int] = defaultdict(int)
        done = 0
        while done < total:
            size = min(options["chunk"], total - done)
            # Each chunk commits its orders with their stock effects: an interrupted run leaves a
            # consistent database, just with fewer orders.
            with transaction.atomic(), connection.cursor() as cursor:
                # A bulk load: losing the last chunk in a crash just means running it again.
                cursor.execute("SET LOCAL synchronous_commit = off")
                for name, value in generator.chunk(cursor, first=done, size=size).items():
                    counts[name] += value
                self._stock(generator)
            done += size
            elapsed = time.monotonic() - started
            self.stdout.write(f"{done:>9,} orders, {counts['lines']:>10,} lines ({elapsed:.0f} s)")
        self._stock_untouched(generator, warehouses)
        with connection.cursor() as cursor:
            for table in ("orders_salesorder", "orders_orderline", "orders_allocation", "orders_orderevent",
                          "orders_customer", "orders_address", "inventory_stocklevel", "inventory_stockmovement"):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        mix = ", ".join(f"{status} {count:,}" for status, count in sorted(generator.status_counts.items()))
        self.stdout.write(self.style.SUCCESS(
            f"seed_scale: {done:,} orders, {counts['lines']:,} lines, {counts['allocations']:,} allocations, "
            f"{counts['events']:,} events in {time.monotonic() - started:.0f} s\n  statuses: {mix}"
        ))

    # --- reference data -------------------------------------------------------------------
    def _reference_data(self, rng: random.Random, product_count: int) -> tuple[list, list, list, set[int]]:
        channels = []
        for code, name, kind, strategy, share in CHANNELS:
            channel, _ = Channel.objects.get_or_create(
                code=code, defaults={"name": name, "kind": kind, "allocation_strategy": strategy}
            )
            channels.append((channel, share))
        warehouses = list(Warehouse.objects.filter(active=True).order_by("priority", "code"))
        if not warehouses:
            for code, name, city, lat, lon, priority, handling in WAREHOUSES:
                Warehouse.objects.get_or_create(code=code, defaults={
                    "name": name, "city": city, "latitude": lat, "longitude": lon, "priority": priority,
                    "handling_days": handling,
                })
            warehouses = list(Warehouse.objects.filter(active=True).order_by("priority", "code"))
        skus = [f"{SKU_PREFIX}{index:05d}" for index in range(1, product_count + 1)]
        Product.objects.bulk_create(
            [Product(sku=sku, name=f"Scale product {sku[len(SKU_PREFIX):]}", list_price=Decimal(rng.randrange(300, 60000)) / 100,
                     weight_kg=Decimal(rng.randrange(50, 5000)) / 1000)
             for sku in skus],
            ignore_conflicts=True, batch_size=2000,
        )
        products = list(Product.objects.filter(sku__in=skus, active=True).order_by("id").values_list("id", "list_price"))
        scarce = {product_id for product_id, _price in rng.sample(products, max(1, len(products) // 20))}
        return channels, warehouses, products, scarce

    def _customers(self, rng: random.Random, count: int) -> list[tuple[int, int]]:
        """(customer id, address id) for `scale-N@example.com`, created when missing (COPY)."""
        emails = [EMAIL_PATTERN.format(index) for index in range(1, count + 1)]
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE seed_customer (name text, email text, phone text) ON COMMIT DROP")
            with cursor.copy("COPY seed_customer (name, email, phone) FROM STDIN") as copy:
                for email in emails:
                    name = f"{rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)}"
                    copy.write_row((name, email, f"+86 1{rng.randrange(30, 90)}{rng.randrange(10**8):08d}"))
            cursor.execute(
                "INSERT INTO orders_customer (name, email, phone, created_at) "
                "SELECT name, email, phone, %s FROM seed_customer ON CONFLICT DO NOTHING",
                [now],
            )
            cursor.execute(
                "SELECT c.id, c.name FROM orders_customer c WHERE lower(c.email) = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM orders_address a WHERE a.customer_id = c.id)",
                [emails],
            )
            missing = cursor.fetchall()
            with cursor.copy(
                "COPY orders_address (customer_id, name, line1, line2, city, region, postal_code, country, "
                "latitude, longitude) FROM STDIN"
            ) as copy:
                for customer_id, name in missing:
                    city, postal_code, lat, lon = rng.choice(CITIES)
                    copy.write_row((customer_id, name, f"{rng.randrange(1, 999)} Renmin Road", "", city, "",
                                    postal_code, "CN", lat, lon))
            cursor.execute(
                "SELECT DISTINCT ON (c.id) c.id, a.id FROM orders_customer c "
                "JOIN orders_address a ON a.customer_id = c.id WHERE lower(c.email) = ANY(%s) ORDER BY c.id, a.id",
                [emails],
            )
            return cursor.fetchall()

    # --- stock ----------------------------------------------------------------------------
    def _stock(self, generator: _Generator) -> None:
        """What this chunk's orders hold and shipped, through inventory.services (inside the
        chunk's transaction): receipts of shipped + reserved units (+ some free units the first
        time a row is stocked, none for scarce products), the reservation, the shipment."""
        rng = generator.rng
        receipts, reservations, shipments = [], [], []
        for key in sorted(set(generator.shipped) | set(generator.reserved)):
            product_id, warehouse_id = key
            shipped, reserved = generator.shipped.get(key, 0), generator.reserved.get(key, 0)
            free = 0
            if key not in generator.stocked:
                generator.stocked.add(key)
                free = 0 if product_id in generator.scarce else rng.randrange(20, 500)
            if shipped + reserved + free:
                receipts.append(stock.StockLine(product_id, warehouse_id, shipped + reserved + free))
            if shipped + reserved:
                reservations.append(stock.StockLine(product_id, warehouse_id, shipped + reserved))
            if shipped:
                shipments.append(stock.StockLine(product_id, warehouse_id, shipped))
        generator.shipped.clear()
        generator.reserved.clear()
        self._post_stock(receipts, reservations, shipments)

    def _stock_untouched(self, generator: _Generator, warehouses: list[Warehouse]) -> None:
        """Products no order touched still get some stock in the first warehouse."""
        touched = {product_id for product_id, _warehouse_id in generator.stocked}
        receipts = [
            stock.StockLine(product_id, warehouses[0].pk, generator.rng.randrange(20, 500))
            for product_id, _price in generator.products
            if product_id not in touched and product_id not in generator.scarce
        ]
        with transaction.atomic():
            self._post_stock(receipts, [], [])

    @staticmethod
    def _post_stock(receipts: list, reservations: list, shipments: list) -> None:
        high_water = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for batch in _batches(receipts, 2_000):
            stock.stock_receive_many(lines=batch, reference="seed_scale", reason="seed_scale history",
                                     kind=MovementKind.RECEIPT)
        for batch in _batches(reservations, 2_000):
            stock.stock_reserve(lines=batch)
        for batch in _batches(shipments, 2_000):
            stock.stock_issue_for_shipment(lines=batch, reference="seed_scale")
        # The arrival hook asked to reallocate backorders: they are history (scarce products keep
        # nothing available), there is nothing to do.
        OutboxMessage.objects.filter(
            pk__gt=high_water, task_name=tasks.reallocate_backorders_task.name, processed_at__isnull=True
        ).update(processed_at=timezone.now(), last_error="seed_scale: history, not run")


def _batches(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


class _Generator:
    """Makes orders chunk by chunk and remembers what they reserve and ship per stock row."""

    def __init__(self, rng: random.Random, channels: list, warehouses: list[Warehouse], products: list,
                 scarce: set[int], customers: list[tuple[int, int]], *, days: int, total: int) -> None:
        self.rng = rng
        self.channels = Weighted([(channel, share) for channel, share in channels])
        self.warehouses = warehouses
        self.warehouse_pick = Weighted([(w, 1 / (index + 1)) for index, w in enumerate(warehouses)])
        self.products = products
        # popularity falls off with rank (a mild Zipf curve): a few best sellers, a long tail
        plentiful = [p for p in products if p[0] not in scarce]
        self.popular = Weighted([(p, 1 / (rank + 10)) for rank, p in enumerate(rng.sample(plentiful, len(plentiful)))])
        self.scarce_products = Weighted([(p, 1.0) for p in products if p[0] in scarce] or [(products[0], 1.0)])
        self.scarce = scarce
        self.customers = Weighted([(c, 1 / (rank + 50)) for rank, c in enumerate(customers)])
        self.line_counts = Weighted(LINE_COUNTS)
        self.mix = [(age, Weighted(weights)) for age, weights in STATUS_MIX]
        self.now = timezone.now()
        self.start = self.now - timedelta(days=days)
        self.span = (self.now - timedelta(hours=1) - self.start).total_seconds()
        self.total = total
        self.shipped: dict[tuple[int, int], int] = defaultdict(int)
        self.reserved: dict[tuple[int, int], int] = defaultdict(int)
        self.stocked: set[tuple[int, int]] = set()  # stock rows that got their free units
        self.status_counts: dict[str, int] = defaultdict(int)

    @staticmethod
    def _ids(cursor: Any, table: str, count: int, column: str = "id") -> list[int]:
        if count == 0:
            return []
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
        )
        return [row[0] for row in cursor.fetchall()]

    def _status(self, created: datetime) -> str:
        age = (self.now - created).total_seconds() / 86400
        for minimum, weights in self.mix:
            if age >= minimum:
                return weights.pick(self.rng)
        return self.mix[-1][1].pick(self.rng)

    def chunk(self, cursor: Any, *, first: int, size: int) -> dict[str, int]:
        rng = self.rng
        # this chunk's slice of the history, so ids grow with created_at
        low = self.start + timedelta(seconds=self.span * first / self.total)
        width = self.span * size / self.total
        moments = sorted(low + timedelta(seconds=rng.random() * width) for _ in range(size))
        order_ids = self._ids(cursor, "orders_salesorder", size)
        cursor.execute("SELECT nextval('orders_salesorder_number_seq') FROM generate_series(1, %s)", [size])
        numbers = [f"SO-{row[0]:07d}" for row in cursor.fetchall()]
        orders, lines, allocations, events = [], [], [], []
        for order_id, number, created in zip(order_ids, numbers, moments, strict=True):
            order, order_lines, order_allocations, order_events = self._order(order_id, number, created)
            orders.append(order)
            lines.extend(order_lines)
            allocations.extend(order_allocations)
            events.extend(order_events)
        # ids for the children, in creation order
        for row, line_id in zip(lines, self._ids(cursor, "orders_orderline", len(lines)), strict=True):
            row[0] = line_id
        for row, allocation_id in zip(allocations, self._ids(cursor, "orders_allocation", len(allocations)), strict=True):
            row[0] = allocation_id
            row[1] = row[1][0]  # the line row -> its id
        for row, event_id in zip(events, self._ids(cursor, "orders_orderevent", len(events)), strict=True):
            row[0] = event_id
        for table, columns, rows in (
            ("orders_salesorder", ORDER_COLUMNS, orders),
            ("orders_orderline", LINE_COLUMNS, lines),
            ("orders_allocation", ALLOCATION_COLUMNS, allocations),
            ("orders_orderevent", EVENT_COLUMNS, events),
        ):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return {"orders": len(orders), "lines": len(lines), "allocations": len(allocations), "events": len(events)}

    def _order(self, order_id: int, number: str, created: datetime) -> tuple[list, list, list, list]:
        rng = self.rng
        status = self._status(created)
        self.status_counts[status] += 1
        channel = self.channels.pick(rng)
        customer_id, address_id = self.customers.pick(rng)
        warehouse = self.warehouse_pick.pick(rng)
        count = self.line_counts.pick(rng)
        picked: dict[int, list] = {}
        for index in range(count):
            # backorders wait for scarce products (nothing available): every line of a
            # backordered order, the first line of a partially allocated one
            scarce = status == S.BACKORDERED or (status == S.PARTIALLY_ALLOCATED and index == 0)
            source = self.scarce_products if scarce else self.popular
            product_id, price = source.pick(rng)
            if product_id not in picked:
                picked[product_id] = [product_id, price, rng.choice((1, 1, 1, 2, 2, 3, 4))]
        lines, allocations = [], []
        total = Decimal("0")
        for line_no, (product_id, price, quantity) in enumerate(picked.values(), start=1):
            allocated = shipped = cancelled = 0
            if status in (S.SHIPPED, S.DELIVERED, S.CLOSED):
                shipped = quantity
            elif status == S.PARTIALLY_SHIPPED:
                # something shipped, something still allocated (a one-line order ships half)
                if len(picked) == 1:
                    quantity = max(quantity, 2)
                    shipped = quantity // 2
                    allocated = quantity - shipped
                elif line_no == 1 or (line_no < len(picked) and rng.random() < 0.4):
                    shipped = quantity
                else:
                    allocated = quantity
            elif status in (S.ALLOCATED, S.PICKING, S.ON_HOLD):
                allocated = quantity
            elif status == S.PARTIALLY_ALLOCATED:
                # the scarce first line waits; the others are allocated (a one-line order gets half)
                if line_no > 1:
                    allocated = quantity
                elif len(picked) == 1:
                    quantity = max(quantity, 2)
                    allocated = quantity // 2
            elif status == S.CANCELLED:
                cancelled = quantity
            line = [None, order_id, line_no, product_id, quantity, price, allocated, shipped, cancelled]
            lines.append(line)
            total += price * quantity
            if allocated or shipped:
                key = (product_id, warehouse.pk)
                self.reserved[key] += allocated
                self.shipped[key] += shipped
                allocations.append([None, line, warehouse.pk, allocated, shipped, created + timedelta(minutes=2)])
        path = PATHS[status]
        moments = [created]
        for _ in path:
            moments.append(min(moments[-1] + timedelta(hours=rng.uniform(0.2, 30)), self.now))
        events = [[None, order_id, EventKind.CREATED, "", S.DRAFT, f"Order received from {channel.name}.", "{}",
                   None, created]]
        previous = S.DRAFT
        for target, moment in zip(path, moments[1:], strict=True):
            events.append([None, order_id, EventKind.STATUS, previous, target, "", "{}", None, moment])
            previous = target
        promised = add_business_days(created.date(), warehouse.handling_days) if status in PROMISED else None
        external_ref = f"SC-{order_id}" if channel.kind in (ChannelKind.WEB, ChannelKind.MARKETPLACE) else ""
        order = [
            order_id, number, channel.pk, external_ref, customer_id, address_id, status,
            S.ALLOCATED if status == S.ON_HOLD else "", "CNY", total, total, channel.kind != ChannelKind.STORE,
            channel.allocation_strategy, None, promised, secrets.token_urlsafe(16),
            "customer asked to wait" if status == S.ON_HOLD else "",
            "customer changed their mind" if status == S.CANCELLED else "", "", None, created, moments[-1],
        ]
        return order, lines, allocations, events

