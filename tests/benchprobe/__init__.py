"""Stand-in benchmarks for tests/test_bench.py: each sets Django up on its own benchmark database
(bench._util.setup_django, no migrations) and prints where it landed — no workload."""

from __future__ import annotations

import os


def probe(name: str) -> int:
    from bench._util import setup_django

    setup_django(name, migrate=False)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        database = cursor.fetchone()[0]
    print(f"PROBE {name} pid={os.getpid()} database={database}", flush=True)
    return 0
