"""hot_sku: 64 clients buy 1 unit of the same SKU (1,000 in stock) until it is gone.

Each client loops `orders.services.place_order` (one line, quantity 1, allow_backorder=False)
until it gets its first clean out-of-stock (InsufficientStock); every order must succeed or
be refused that way — no other error, no request slower than 2 s. Exactly 1,000 must succeed.
The limit, in the same run: the same clients looping one conditional single-row UPDATE in
autocommit (`reserved = reserved + 1 WHERE available >= 1`) until it updates nothing
(`ratio` = service / that). A second limit, the same work in raw SQL: each sale is a whole
order placed the way bench/order_intake.py's raw client places it, a guarded UPDATE and one
CTE inserting address, order, line, allocation, events and outbox row (`same_work_ratio`).
Rates are successes per second until the last unit was sold. Clients are processes; the
kinds alternate over --rounds (default 2) and are summed. CPU per sale (clients and their
PostgreSQL backends) is logged: on a small machine CPU, not the row lock, caps every kind.

Options: --clients=64 --stock=1000 --rounds=2
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from bench._util import CpuMeter, bench_line, connect, flag, log, percentile, run_clients, setup_django

NAME = "hot_sku"
HOT_SKU = "BENCH-HOT"
WARM_SKU = "BENCH-0000"  # from order_intake's data set (prepare_data), with plenty of stock
MAX_WAIT_MS = 2000


def prepare(stock: int) -> int:
    """The hot product with `stock` units on hand in the first warehouse; returns its stock row id."""
    from decimal import Decimal

    from django.db import connection

    from bench.order_intake import prepare_data, reset_orders
    from inventory import services
    from inventory.models import Product, StockLevel

    prepare_data()  # order_intake's data set, in hot_sku's own database: channel, warehouses, customers
    reset_orders()
    from inventory.models import Warehouse

    warehouse = Warehouse.objects.filter(active=True).order_by("priority", "code").first()
    product, _ = Product.objects.get_or_create(sku=HOT_SKU, defaults={"name": "Bench hot seller", "list_price": Decimal("9.90")})
    # `stock` units in the first warehouse, none anywhere else (through the ledger).
    for level in StockLevel.objects.filter(product=product).exclude(warehouse=warehouse).exclude(on_hand=0):
        services.stock_adjust(product=product, warehouse=level.warehouse, quantity=-level.on_hand, reason="bench reset")
    level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    on_hand = level.on_hand if level else 0
    if on_hand != stock:
        services.stock_adjust(product=product, warehouse=warehouse, quantity=stock - on_hand, reason="bench reset")
    level_id = StockLevel.objects.get(product=product, warehouse=warehouse).pk
    connection.close()
    return level_id


def _backend_pid(cursor_owner: Any) -> int:
    with cursor_owner.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _sell_until_refused(sell: Callable[[int], bool], *, barrier: Any, backend_pid: int) -> dict[str, Any]:
    """Start with the others; call `sell(seq)` (True: sold, False: a clean out-of-stock) until
    the first refusal. Other exceptions are counted by type, never hidden (more than 100 end it)."""
    meter = CpuMeter([backend_pid])
    barrier.wait()
    began = time.monotonic()
    meter.start()
    successes, refused, seq = 0, 0, 0
    errors: dict[str, int] = {}
    latencies: list[float] = []
    last_success = 0.0
    while True:
        seq += 1
        started = time.perf_counter()
        try:
            sold = sell(seq)
        except Exception as exc:  # noqa: BLE001 — counted and reported
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if sum(errors.values()) > 100:
                break
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if not sold:
            refused += 1
            break
        successes += 1
        last_success = time.monotonic()
    return {
        "successes": successes, "refused": refused, "errors": errors, "latencies": latencies,
        "last_success": last_success, "began": began, **meter.stop(),
    }


def service_client(index: int, barrier: Any, phase: str) -> dict[str, Any]:
    from django.db import connection

    from core.exceptions import InsufficientStock
    from orders import services

    rng = random.Random(index)

    def order(external_ref: str, sku: str, customer: int, *, allow_backorder: bool = True) -> None:
        services.place_order(
            channel="web", external_ref=external_ref,
            customer=services.CustomerInput(name=f"Bench customer {customer}", email=f"bench{customer}@example.com"),
            ship_to=services.AddressInput(line1="1 Hot Street", city="Shanghai", postal_code="200000", country="CN",
                                          lat=31.23, lon=121.47),
            lines=[services.LineInput(sku=sku, quantity=1)],
            allow_backorder=allow_backorder,
        )

    # Warm up as order_intake's clients do — imports, connection, caches, prepared statements —
    # with orders for one of order_intake's plentiful SKUs, never the hot one (its sales are counted).
    for warm in range(6):
        order(f"{phase}-{index}-warm{warm}", WARM_SKU, 0)

    def sell(seq: int) -> bool:
        try:
            order(f"{phase}-{index}-{seq}", HOT_SKU, rng.randrange(500), allow_backorder=False)
        except InsufficientStock:
            return False
        return True

    return _sell_until_refused(sell, barrier=barrier, backend_pid=_backend_pid(connection))


def raw_client(index: int, barrier: Any, url: str, level_id: int) -> dict[str, Any]:
    conn = connect(url, autocommit=True)

    def sell(_seq: int) -> bool:
        return conn.execute(
            "UPDATE inventory_stocklevel SET reserved = reserved + 1, updated_at = now() "
            "WHERE id = %s AND available >= 1 RETURNING id",
            [level_id],
        ).fetchone() is not None

    try:
        return _sell_until_refused(sell, barrier=barrier, backend_pid=conn.info.backend_pid)
    finally:
        conn.close()


def raw_order_client(index: int, barrier: Any, phase: str, context: dict[str, Any]) -> dict[str, Any]:
    """The same work as the service in raw SQL (bench.order_intake.raw_place: a guarded UPDATE
    and one CTE inserting the order's rows, in one transaction): a second limit, "same work"."""
    from bench.order_intake import raw_place

    conn = connect(context["url"])

    def sell(seq: int) -> bool:
        return raw_place(conn, {
            "external_ref": f"{phase}-{index}-{seq}",
            "customer": {"email": f"bench{(index * 7 + seq) % 500}@example.com"},
            "ship_to": {"line1": "1 Hot Street", "city": "Shanghai", "postal_code": "200000", "country": "CN",
                        "lat": 31.23, "lon": 121.47},
            "lines": [{"sku": HOT_SKU, "quantity": 1}],
        }, context)

    try:
        return _sell_until_refused(sell, barrier=barrier, backend_pid=conn.info.backend_pid)
    finally:
        conn.close()


def run(label: str, target: Any, clients: int, args: tuple) -> dict[str, Any]:
    results, _released = run_clients(target, clients, args=args)
    # The clients' own clocks after the barrier (the parent may be scheduled late among them).
    started = min(result["began"] for result in results)
    successes = sum(result["successes"] for result in results)
    errors: dict[str, int] = {}
    for result in results:
        for key, value in result["errors"].items():
            errors[key] = errors.get(key, 0) + value
    latencies = [value for result in results for value in result["latencies"]]
    sold_out = max((result["last_success"] for result in results), default=started)
    seconds = max(sold_out - started, 1e-9)
    summary = {
        "successes": successes, "refused": sum(result["refused"] for result in results), "errors": errors,
        "seconds": seconds, "per_s": successes / seconds, "max_ms": max(latencies, default=0.0),
        "p95_ms": percentile(latencies, 95),
        # client processes + their PostgreSQL backends, including the refused attempts
        "cpu_s": sum(result["own_cpu_s"] + result["other_cpu_s"] for result in results),
    }
    log(
        f"{label:8s} {successes} sold in {seconds:.2f} s = {summary['per_s']:.0f}/s, "
        f"{summary['refused']} clean out-of-stock, errors {errors or 0}, "
        f"p95 {summary['p95_ms']:.1f} ms, max {summary['max_ms']:.1f} ms, "
        f"CPU {summary['cpu_s'] / max(successes, 1) * 1000:.2f} ms per sale"
    )
    return summary


def stock_row(level_id: int) -> tuple[int, int]:
    from inventory.models import StockLevel

    level = StockLevel.objects.get(pk=level_id)
    return level.on_hand, level.reserved


def main(argv: list[str]) -> int:
    import os

    clients = int(flag(argv, "clients", "64"))
    stock = int(flag(argv, "stock", "1000"))
    rounds = max(1, int(flag(argv, "rounds", "2")))
    setup_django(NAME)
    from bench.order_intake import invariant_violations, reset_orders

    level_id = prepare(stock)
    url = os.environ["DATABASE_URL"]
    log(f"{clients} clients (processes) buy 1 of {stock} units of one SKU; {rounds} rounds of each kind")
    from bench.order_intake import raw_context

    context = raw_context()
    service_runs: list[dict[str, Any]] = []
    raw_runs: list[dict[str, Any]] = []
    raw_order_runs: list[dict[str, Any]] = []
    problems: list[str] = []

    def sold_exactly(label: str, summary: dict[str, Any]) -> None:
        on_hand, reserved = stock_row(level_id)
        if summary["successes"] != stock or reserved != stock:
            problems.append(f"{label}: {summary['successes']} sold, reserved {reserved} of {on_hand}")

    for round_no in range(rounds):
        reset_orders()
        raw = run("raw", raw_client, clients, (url, level_id))
        sold_exactly(f"raw round {round_no}", raw)
        raw_runs.append(raw)
        reset_orders()
        raw_order = run("raw_order", raw_order_client, clients, (f"rawo{round_no}", context))
        sold_exactly(f"raw_order round {round_no}", raw_order)
        problems.extend(invariant_violations())
        raw_order_runs.append(raw_order)
        reset_orders()
        service = run("service", service_client, clients, (f"hot{round_no}",))
        sold_exactly(f"service round {round_no}", service)
        problems.extend(invariant_violations())
        service_runs.append(service)
    reset_orders()
    for problem in problems:
        log(f"  {problem}")

    def rate(runs: list[dict[str, Any]]) -> float:
        return sum(r["successes"] for r in runs) / sum(r["seconds"] for r in runs)

    per_s, raw_per_s, raw_order_per_s = rate(service_runs), rate(raw_runs), rate(raw_order_runs)

    def cpu_ms(runs: list[dict[str, Any]]) -> float:
        return sum(r["cpu_s"] for r in runs) / sum(r["successes"] for r in runs) * 1000

    log(f"CPU per sale (clients + their PostgreSQL backends, refusals included): raw {cpu_ms(raw_runs):.2f} ms, "
        f"raw_order {cpu_ms(raw_order_runs):.2f} ms, service {cpu_ms(service_runs):.2f} ms")
    max_wait = max(r["max_ms"] for r in service_runs)
    errors = sum(sum(r["errors"].values()) for r in service_runs)
    successes = min(r["successes"] for r in service_runs)
    bench_line(
        NAME,
        successes=successes,
        per_s=per_s,
        raw_per_s=raw_per_s,
        ratio=per_s / raw_per_s if raw_per_s else float("nan"),
        max_wait_ms=max_wait,
        raw_order_per_s=raw_order_per_s,
        same_work_ratio=per_s / raw_order_per_s if raw_order_per_s else float("nan"),
        p95_ms=max(r["p95_ms"] for r in service_runs),
        errors=errors,
        clients=clients,
        oversell=len(problems),
    )
    return 1 if problems or errors or max_wait > MAX_WAIT_MS else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
