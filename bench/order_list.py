"""order_list: the orders portal on a million orders.

Its own database (`<configured name>_order_list`), filled once by `seed_scale --orders 1000000`
(the time it took is printed; later runs reuse the data). Then, in this process, Django's test
Client (a logged-in Operations user, DEBUG off) requests each page 5 times to warm up and 50
times timed — server time: middleware, view, queries, template:
  list      /orders/                                (page 1, newest first)
  filtered  /orders/?status=backordered&channel=web
  deep      /orders/?after=<cursor half-way down the list>
  detail    /orders/<id>/                           (an order with 5 lines and a full timeline)
The same SELECTs in raw SQL: the page's own queries (captured once, with their parameters) run
50 times on a plain psycopg connection — the floor for that page's data. Query counts come from
one captured request; `queries_constant` compares the list at 25 and 100 rows per page.
Goal: p95 ≤ 150 ms for every page and ≤ raw p95 + 40 ms.

Options: --orders=1000000 --requests=50
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from bench._util import bench_line, connect, flag, log, median, percentile, setup_django

NAME = "order_list"
GOAL_MS = 150
GOAL_OVER_RAW_MS = 40
BENCH_USER = "bench-operations"


def ensure_orders(wanted: int) -> tuple[int, float | None]:
    """At least `wanted` orders in the benchmark database; returns (count, seconds spent seeding)."""
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_salesorder")
        existing = cursor.fetchone()[0]
    if existing >= wanted:
        return existing, None
    log(f"seeding {wanted - existing:,} orders with seed_scale (once; later runs reuse them)…")
    started = time.monotonic()
    call_command("seed_scale", orders=wanted - existing)
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_salesorder")
        return cursor.fetchone()[0], seconds


def operations_client() -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from core.roles import OPERATIONS

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    user.groups.add(Group.objects.get(name=OPERATIONS))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def page_urls() -> dict[str, str]:
    from django.db import connection
    from django.urls import reverse

    from core.pagination import encode_cursor
    from orders.models import SalesOrder

    index = reverse("orders:index")
    total = SalesOrder.objects.count()
    with connection.cursor() as cursor:
        # the key of the last row of the page before the middle of the default ordering
        cursor.execute(
            "SELECT created_at, id FROM orders_salesorder ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [total // 2],
        )
        created_at, order_id = cursor.fetchone()
        cursor.execute(
            "SELECT o.id FROM orders_salesorder o WHERE o.status = 'closed' AND "
            "(SELECT count(*) FROM orders_orderline l WHERE l.order_id = o.id) = 5 ORDER BY o.id DESC LIMIT 1"
        )
        row = cursor.fetchone()
    detail_id = row[0] if row else SalesOrder.objects.order_by("-id").values_list("id", flat=True).first()
    return {
        "list": index,
        "filtered": f"{index}?status=backordered&channel=web",
        "deep": f"{index}?after={encode_cursor([created_at, order_id])}",
        "detail": reverse("orders:order_detail", args=[detail_id]),
    }


def captured(client: Any, url: str) -> list[str]:
    """The SQL one request runs (parameters filled in)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [query["sql"] for query in queries.captured_queries]


def time_page(client: Any, url: str, requests: int) -> list[float]:
    for _ in range(5):
        assert client.get(url).status_code == 200
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def _plain_select(sql: str) -> str:
    """Django reads `.iterator()` querysets (the filter form's choices) through a named cursor."""
    match = re.match(r"DECLARE .*? CURSOR (?:WITH(?:OUT)? HOLD )?FOR (.*)", sql, re.DOTALL)
    return match.group(1) if match else sql


def time_raw(statements: list[str], requests: int) -> list[float]:
    """The page's data queries (those on orders/inventory tables) on a plain connection."""
    data = [_plain_select(sql) for sql in statements if "orders_" in sql or "inventory_" in sql]
    conn = connect(os.environ["DATABASE_URL"], autocommit=True)
    try:
        for _ in range(5):
            for sql in data:
                conn.execute(sql).fetchall()
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            for sql in data:
                conn.execute(sql).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    wanted = int(flag(argv, "orders", "1000000"))
    requests = int(flag(argv, "requests", "50"))
    setup_django(NAME)
    orders, seed_seconds = ensure_orders(wanted)
    if seed_seconds is not None:
        log(f"seed_scale took {seed_seconds:.0f} s")
    client = operations_client()
    urls = page_urls()
    results: dict[str, dict[str, Any]] = {}
    for name, url in urls.items():
        statements = captured(client, url)
        timings = time_page(client, url, requests)
        raw = time_raw(statements, requests)
        results[name] = {
            "median": median(timings), "p95": percentile(timings, 95), "raw_median": median(raw),
            "raw_p95": percentile(raw, 95), "queries": len(statements),
        }
        r = results[name]
        log(
            f"{name:9s} median {r['median']:6.1f} ms  p95 {r['p95']:6.1f} ms  | raw median {r['raw_median']:6.1f} ms  "
            f"p95 {r['raw_p95']:6.1f} ms | {r['queries']} queries  {url[:80]}"
        )
    small = len(captured(client, f"{urls['list']}?per_page=25"))
    large = len(captured(client, f"{urls['list']}?per_page=100"))
    worst = max(results, key=lambda name: results[name]["p95"])
    within = all(r["p95"] <= GOAL_MS and r["p95"] <= r["raw_p95"] + GOAL_OVER_RAW_MS for r in results.values())
    bench_line(
        NAME,
        orders=orders,
        p95_ms=results[worst]["p95"],
        raw_p95_ms=results[worst]["raw_p95"],
        queries=max(r["queries"] for r in results.values()),
        worst_page=worst,
        **{f"{name}_p95_ms": r["p95"] for name, r in results.items()},
        **{f"{name}_median_ms": r["median"] for name, r in results.items()},
        queries_constant=small == large,
        seed_s=seed_seconds if seed_seconds is not None else "reused",
        goal_met=within,
    )
    return 0 if within and small == large else 1


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
