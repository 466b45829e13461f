"""order_intake: 16 concurrent clients place 3-line orders over 1,000 SKUs in 3 warehouses.

Three ways, same run, same machine, same data (the order tables are emptied and reservations
reset before each phase, stock is plentiful so every order allocates):
  (c) raw — the limit: per order one guarded `UPDATE … FROM unnest(…) … WHERE available >= qty
      RETURNING` (rows locked in (product, warehouse) order) and one CTE that inserts the
      address, order, lines, allocations, events and outbox row; psycopg 3, no ORM;
  (a) service — `orders.services.place_order` (Django ORM, one connection per client);
  (b) api — `POST /api/v1/orders/` with token auth against gunicorn (4 sync workers).
Clients are processes (not threads, which would share one GIL) for all three; `--threads` runs
(a) and (c) with threads instead, for comparison. After each phase the stock invariants are
checked from the database (reserved ≤ on_hand, reserved = Σ allocations, …): `oversell` counts
violations (must be 0).

Options: --seconds=10 (per kind) --rounds=2 (interleaved slices) --clients=16 --workers=4 (gunicorn)
--threads --only=raw,service,api
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from bench._util import (
    CpuMeter,
    bench_line,
    connect,
    flag,
    gunicorn,
    log,
    percentile,
    process_tree,
    run_clients,
    setup_django,
)

NAME = "order_intake"
SKU_COUNT = 1000
WAREHOUSES = [  # code, name, city, lat, lon, priority
    ("BW-SH", "Bench Shanghai", "Shanghai", "31.230400", "121.473700", 10),
    ("BW-SZ", "Bench Shenzhen", "Shenzhen", "22.543100", "114.057900", 20),
    ("BW-CD", "Bench Chengdu", "Chengdu", "30.572800", "104.066800", 30),
]
ON_HAND = 1_000_000  # per SKU and warehouse: every order allocates, nothing runs dry
CUSTOMERS = 500
CITIES = [("Shanghai", "200000", 31.23, 121.47), ("Beijing", "100000", 39.90, 116.40),
          ("Guangzhou", "510000", 23.13, 113.26), ("Chengdu", "610000", 30.66, 104.07)]
API_USER = "bench-api"


# --- data ---------------------------------------------------------------------------------------
def sku(index: int) -> str:
    return f"BENCH-{index:04d}"


def prepare_data() -> None:
    """Channel, warehouses, 1,000 products with stock (through the ledger), customers, API user."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from inventory import services as stock
    from inventory.models import Product, StockLevel, Warehouse
    from orders.models import Channel, Customer

    Channel.objects.get_or_create(code="web", defaults={"name": "Web shop", "kind": "web"})
    warehouses = []
    for code, name, city, lat, lon, priority in WAREHOUSES:
        warehouse, _ = Warehouse.objects.get_or_create(
            code=code,
            defaults={"name": name, "city": city, "latitude": Decimal(lat), "longitude": Decimal(lon),
                      "priority": priority, "handling_days": 1},
        )
        warehouses.append(warehouse)
    rng = random.Random(7)
    Product.objects.bulk_create(
        [Product(sku=sku(i), name=f"Bench product {i}", list_price=Decimal(rng.randrange(100, 20000)) / 100)
         for i in range(SKU_COUNT)],
        ignore_conflicts=True,
    )
    products = list(Product.objects.filter(sku__in=[sku(i) for i in range(SKU_COUNT)]).order_by("id"))
    stocked = {
        (level.product_id, level.warehouse_id)
        for level in StockLevel.objects.filter(product__in=products, warehouse__in=warehouses, on_hand__gt=0)
    }
    missing = [(p, w) for p in products for w in warehouses if (p.pk, w.pk) not in stocked]
    if missing:
        log(f"receiving stock for {len(missing)} stock rows (first run only)…")
        with transaction.atomic():
            for product, warehouse in missing:
                stock.stock_receive(product=product, warehouse=warehouse, quantity=ON_HAND, reference="bench")
    Customer.objects.bulk_create(
        [Customer(name=f"Bench customer {i}", email=f"bench{i}@example.com") for i in range(CUSTOMERS)],
        ignore_conflicts=True,
    )
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=API_USER, defaults={"is_superuser": True, "is_staff": True})
    if created:
        user.set_unusable_password()
        user.save()
    Token.objects.get_or_create(user=user)


def api_token() -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get(user__username=API_USER).key


def reset_orders() -> None:
    """Empty the order tables and give every reservation back (benchmark database only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE orders_allocation, orders_orderevent, orders_orderline, orders_salesorder, "
            "orders_address, core_outboxmessage, core_idempotencyrecord CASCADE"
        )
        cursor.execute("UPDATE inventory_stocklevel SET reserved = 0 WHERE reserved <> 0")
    connection.close()


def invariant_violations() -> list[str]:
    from django.db import connection

    from orders.checks import stock_invariant_violations

    try:
        return stock_invariant_violations(ledger_chain=False)
    finally:
        connection.close()


def make_order(rng: random.Random, client: int, seq: int, phase: str) -> dict[str, Any]:
    city, postal_code, lat, lon = rng.choice(CITIES)
    customer = rng.randrange(CUSTOMERS)
    return {
        "channel": "web",
        "external_ref": f"{phase}-{client}-{seq}-{secrets.token_hex(3)}",
        "customer": {"name": f"Bench customer {customer}", "email": f"bench{customer}@example.com"},
        "ship_to": {"line1": f"{rng.randrange(1, 999)} Bench Road", "city": city, "postal_code": postal_code,
                    "country": "CN", "lat": lat, "lon": lon},
        "lines": [{"sku": sku(i), "quantity": rng.randint(1, 3)} for i in rng.sample(range(SKU_COUNT), 3)],
        "allow_backorder": True,
    }


def _finish(count: int, latencies: list[float], errors: dict[str, int], cpu: dict[str, float]) -> dict[str, Any]:
    return {"count": count, "latencies": latencies, "errors": errors, "ended": time.monotonic(), **cpu}


def _timed_loop(
    place: Callable[[dict[str, Any]], str | None], *, rng: random.Random, index: int, phase: str,
    seconds: float, barrier: Any, meter: CpuMeter,
) -> dict[str, Any]:
    """Place orders until the deadline (all clients start together); `place` returns None on
    success or an error label. Exceptions are counted by type, never hidden."""
    barrier.wait()
    meter.start()
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors: dict[str, int] = {}
    seq = 0
    while time.monotonic() < deadline:
        payload = make_order(rng, index, seq, phase)
        seq += 1
        started = time.perf_counter()
        try:
            error = place(payload)
        except Exception as exc:  # noqa: BLE001 — counted and reported
            error = type(exc).__name__
        if error is not None:
            errors[error] = errors.get(error, 0) + 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    return _finish(len(latencies), latencies, errors, meter.stop())


def _django_backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


# --- (a) service --------------------------------------------------------------------------------
def service_client(index: int, barrier: Any, seconds: float, phase: str) -> dict[str, Any]:
    from orders import services

    rng = random.Random(1000 + index)

    def place(payload: dict[str, Any]) -> None:
        services.place_order(
            channel=payload["channel"],
            external_ref=payload["external_ref"],
            customer=services.CustomerInput(**payload["customer"]),
            ship_to=services.AddressInput(**payload["ship_to"]),
            lines=[services.LineInput(sku=line["sku"], quantity=line["quantity"]) for line in payload["lines"]],
            allow_backorder=payload["allow_backorder"],
        )

    for seq in range(3):  # warm up: connection, imports, caches
        place(make_order(rng, index, -seq - 1, phase))
    meter = CpuMeter([_django_backend_pid()])
    return _timed_loop(place, rng=rng, index=index, phase=phase, seconds=seconds, barrier=barrier, meter=meter)


# --- (c) raw SQL: the limit ---------------------------------------------------------------------
RAW_RESERVE = """
UPDATE inventory_stocklevel AS s
   SET reserved = s.reserved + r.quantity, updated_at = now()
  FROM (SELECT sl.id, req.quantity
          FROM unnest(%(skus)s::text[], %(quantities)s::integer[]) AS req(sku, quantity)
          JOIN inventory_product p ON p.sku = req.sku AND p.active
          JOIN inventory_stocklevel sl ON sl.product_id = p.id AND sl.warehouse_id = %(warehouse)s
         ORDER BY sl.product_id, sl.warehouse_id
           FOR UPDATE OF sl) AS r
 WHERE s.id = r.id AND s.available >= r.quantity
RETURNING s.product_id
"""

RAW_INSERT = """
WITH customer AS (
    SELECT id, name FROM orders_customer WHERE lower(email) = lower(%(email)s)
), address AS (
    INSERT INTO orders_address (customer_id, name, line1, line2, city, region, postal_code, country,
                                latitude, longitude)
    SELECT customer.id, customer.name, %(line1)s, '', %(city)s, '', %(postal_code)s, %(country)s,
           %(lat)s, %(lon)s
      FROM customer
    RETURNING id, customer_id
), wanted AS (
    SELECT r.line_no, r.quantity, p.id AS product_id, p.list_price
      FROM unnest(%(skus)s::text[], %(quantities)s::integer[]) WITH ORDINALITY AS r(sku, quantity, line_no)
      JOIN inventory_product p ON p.sku = r.sku
), sales_order AS (
    INSERT INTO orders_salesorder (channel_id, external_ref, customer_id, ship_to_id, status,
        status_before_hold, currency, subtotal, total, allow_backorder, allocation_strategy,
        promised_date, tracking_token, hold_reason, cancel_reason, notes, created_at, updated_at)
    SELECT %(channel)s, %(external_ref)s, address.customer_id, address.id, 'allocated', '', 'CNY',
           t.total, t.total, true, 'priority', %(promised)s, %(token)s, '', '', '', now(), now()
      FROM address, (SELECT SUM(quantity * list_price) AS total FROM wanted) AS t
    RETURNING id
), line AS (
    INSERT INTO orders_orderline (order_id, line_no, product_id, quantity, unit_price,
                                  quantity_allocated, quantity_shipped, quantity_cancelled)
    SELECT sales_order.id, wanted.line_no, wanted.product_id, wanted.quantity, wanted.list_price,
           wanted.quantity, 0, 0
      FROM sales_order, wanted
    RETURNING id, quantity
), allocation AS (
    INSERT INTO orders_allocation (line_id, warehouse_id, quantity, quantity_shipped, created_at)
    SELECT line.id, %(warehouse)s, line.quantity, 0, now() FROM line
), event AS (
    INSERT INTO orders_orderevent (order_id, kind, from_status, to_status, message, data, created_at)
    SELECT sales_order.id, e.kind, e.from_status, e.to_status, e.message, '{}'::jsonb, now()
      FROM sales_order,
           (VALUES (1, 'created', '', 'draft', %(created_message)s),
                   (2, 'status', 'draft', 'confirmed', ''),
                   (3, 'status', 'confirmed', 'allocated', '')) AS e(n, kind, from_status, to_status, message)
     ORDER BY e.n
), outbox AS (
    INSERT INTO core_outboxmessage (task_name, args, kwargs, created_at, available_at, attempts, last_error)
    SELECT 'orders.tasks.order_placed_task', '[]'::jsonb, jsonb_build_object('order_id', sales_order.id),
           now(), now(), 0, ''
      FROM sales_order
)
SELECT id FROM sales_order
"""


def raw_place(conn: Any, payload: dict[str, Any], context: dict[str, Any]) -> bool:
    """Place one order the raw way (one transaction, two statements); False if stock was short."""
    import psycopg

    skus = [line["sku"] for line in payload["lines"]]
    quantities = [line["quantity"] for line in payload["lines"]]
    try:
        reserved = conn.execute(
            RAW_RESERVE, {"skus": skus, "quantities": quantities, "warehouse": context["warehouse"]}
        ).fetchall()
        if len(reserved) != len(skus):
            conn.rollback()
            return False
        ship_to = payload["ship_to"]
        conn.execute(
            RAW_INSERT,
            {
                "email": payload["customer"]["email"], "line1": ship_to["line1"], "city": ship_to["city"],
                "postal_code": ship_to["postal_code"], "country": ship_to["country"],
                "lat": ship_to["lat"], "lon": ship_to["lon"], "skus": skus, "quantities": quantities,
                "channel": context["channel"], "external_ref": payload["external_ref"],
                "promised": context["promised"], "token": secrets.token_urlsafe(16),
                "warehouse": context["warehouse"], "created_message": context["created_message"],
            },
        ).fetchone()
        conn.commit()
        return True
    except psycopg.Error:
        conn.rollback()
        raise


def raw_client(index: int, barrier: Any, seconds: float, phase: str, context: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(1000 + index)
    conn = connect(context["url"])

    def place(payload: dict[str, Any]) -> bool:
        return raw_place(conn, payload, context)

    try:
        for seq in range(3):
            place(make_order(rng, index, -seq - 1, phase))
        meter = CpuMeter([conn.info.backend_pid])
        return _timed_loop(
            lambda payload: None if place(payload) else "short",
            rng=rng, index=index, phase=phase, seconds=seconds, barrier=barrier, meter=meter,
        )
    finally:
        conn.close()


def raw_context() -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from inventory.models import Warehouse
    from orders.allocation import add_business_days
    from orders.models import Channel

    first = Warehouse.objects.filter(active=True).order_by("priority", "code").first()
    channel = Channel.objects.get(code="web")
    context = {
        "url": os.environ["DATABASE_URL"],
        "warehouse": first.pk,
        "channel": channel.pk,
        "promised": add_business_days(timezone.localdate(), first.handling_days),
        "created_message": f"Order received from {channel.name}.",
    }
    connection.close()
    return context


# --- (b) API ------------------------------------------------------------------------------------
def api_client(index: int, barrier: Any, seconds: float, phase: str, server: tuple[str, int, int], token: str) -> dict[str, Any]:
    rng = random.Random(1000 + index)
    host, port, master = server
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json"}
    connection = http.client.HTTPConnection(host, port, timeout=30)

    def post(payload: dict[str, Any]) -> tuple[int, bytes]:
        nonlocal connection
        body = json.dumps(payload)
        for attempt in range(2):
            try:
                connection.request("POST", "/api/v1/orders/", body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    for seq in range(3):
        status, body = post(make_order(rng, index, -seq - 1, phase))
        if status != 201:
            raise RuntimeError(f"warm-up POST /api/v1/orders/ answered {status}: {body[:300]!r}")
    # Client 0 also meters the server: gunicorn's master and workers.
    meter = CpuMeter(process_tree(master) if index == 0 else [])

    def place(payload: dict[str, Any]) -> str | None:
        status, _body = post(payload)
        return None if status == 201 else f"http_{status}"

    try:
        return _timed_loop(place, rng=rng, index=index, phase=phase, seconds=seconds, barrier=barrier, meter=meter)
    finally:
        connection.close()


def api_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("orders.api") is not None


# --- driver -------------------------------------------------------------------------------------
def run_slice(target: Any, clients: int, args: tuple, *, processes: bool) -> dict[str, Any]:
    """One timed slice of one kind on empty order tables, then the invariant check."""
    reset_orders()
    results, started = run_clients(target, clients, args=args, processes=processes)
    errors: dict[str, int] = {}
    for result in results:
        for key, value in result["errors"].items():
            errors[key] = errors.get(key, 0) + value
    return {
        "orders": sum(result["count"] for result in results),
        "seconds": max(result["ended"] for result in results) - started,
        "latencies": [value for result in results for value in result["latencies"]],
        "errors": errors,
        "own_cpu_s": sum(result["own_cpu_s"] for result in results),
        "other_cpu_s": sum(result["other_cpu_s"] for result in results),
        "violations": invariant_violations(),
    }


def combine(label: str, slices: list[dict[str, Any]]) -> dict[str, Any]:
    count = sum(piece["orders"] for piece in slices)
    seconds = sum(piece["seconds"] for piece in slices)
    latencies = [value for piece in slices for value in piece["latencies"]]
    errors: dict[str, int] = {}
    for piece in slices:
        for key, value in piece["errors"].items():
            errors[key] = errors.get(key, 0) + value
    violations = [problem for piece in slices for problem in piece["violations"]]
    own_cpu = sum(piece["own_cpu_s"] for piece in slices)
    other_cpu = sum(piece["other_cpu_s"] for piece in slices)
    summary = {
        "orders": count, "seconds": seconds, "per_s": count / seconds if seconds else 0.0,
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99), "errors": errors, "violations": violations,
    }
    log(
        f"{label:8s} {count:6d} orders in {seconds:5.1f} s = {summary['per_s']:7.1f}/s  "
        f"p50 {summary['p50_ms']:.1f} ms  p95 {summary['p95_ms']:.1f} ms  p99 {summary['p99_ms']:.1f} ms  "
        f"errors {errors or 0}  invariant violations {len(violations)}"
    )
    if count:
        # raw/service: client process + its PostgreSQL backend; api: client + gunicorn processes
        log(
            f"{'':8s} CPU per order: client {own_cpu / count * 1000:.2f} ms, "
            f"{'server' if label == 'api' else 'backend'} {other_cpu / count * 1000:.2f} ms"
        )
    for problem in violations[:10]:
        log(f"  {problem}")
    return summary


def main(argv: list[str]) -> int:
    seconds = float(flag(argv, "seconds", "10"))
    rounds = max(1, int(flag(argv, "rounds", "2")))
    clients = int(flag(argv, "clients", "16"))
    workers = int(flag(argv, "workers", "4"))
    processes = "--threads" not in argv
    only = [kind for kind in ("raw", "service", "api") if kind in (flag(argv, "only", "raw,service,api") or "").split(",")]
    setup_django(NAME)
    prepare_data()
    if "api" in only and not api_available():
        log("orders.api does not exist yet: API phase skipped")
        only.remove("api")
    mode = "processes" if processes else "threads"
    log(
        f"{clients} clients ({mode}), {seconds:g} s per kind in {rounds} interleaved slices, "
        f"{SKU_COUNT} SKUs x {len(WAREHOUSES)} warehouses"
    )
    slice_seconds = seconds / rounds
    slices: dict[str, list[dict[str, Any]]] = {kind: [] for kind in only}
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(gunicorn(workers=workers)) if "api" in only else None
        context = raw_context() if "raw" in only else None
        token = api_token() if "api" in only else ""
        # Slices alternate (raw, service, api, raw, …) so that load from anything else on the
        # machine falls on all three alike.
        for round_no in range(rounds):
            for kind in only:
                phase = f"{kind[:3]}{round_no}"
                if kind == "raw":
                    piece = run_slice(raw_client, clients, (slice_seconds, phase, context), processes=processes)
                elif kind == "service":
                    piece = run_slice(service_client, clients, (slice_seconds, phase), processes=processes)
                else:
                    piece = run_slice(api_client, clients, (slice_seconds, phase, server, token), processes=True)
                slices[kind].append(piece)
    reset_orders()
    phases = {kind: combine(kind, pieces) for kind, pieces in slices.items()}

    def rate(name: str) -> float:
        return phases[name]["per_s"] if name in phases else float("nan")

    raw = rate("raw")
    oversell = sum(len(phase["violations"]) for phase in phases.values())
    bench_line(
        NAME,
        service_per_s=rate("service"),
        api_per_s=rate("api"),
        raw_per_s=raw,
        service_ratio=rate("service") / raw if raw else float("nan"),
        api_ratio=rate("api") / raw if raw else float("nan"),
        api_p95_ms=phases["api"]["p95_ms"] if "api" in phases else float("nan"),
        service_p95_ms=phases["service"]["p95_ms"] if "service" in phases else float("nan"),
        raw_p95_ms=phases["raw"]["p95_ms"] if "raw" in phases else float("nan"),
        clients=clients,
        mode=mode,
        oversell=oversell,
    )
    failed = oversell > 0 or any(phase["errors"] for phase in phases.values())
    return 1 if failed else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
