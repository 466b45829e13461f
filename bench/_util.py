"""Shared helpers for the benchmarks: the BENCH line, timing, percentiles, the benchmark
database, parallel clients (processes or threads) and a throw-away gunicorn.

Benchmarks never touch the configured database or the test database: `setup_django(name)`
points Django at `<configured name>_<name>` on the same server (created and migrated when
needed; BENCH_DATABASE_URL overrides), with the settings of bench/_settings.py. Each benchmark
owns its database: creating it marks it with the benchmark's name (COMMENT ON DATABASE), and a
database that exists without that mark is refused (BenchDatabaseRefused) — it may hold another
benchmark's rows, which would skew or break this one. BENCH_CLAIM_DATABASE=1 marks an existing
database as the running benchmark's instead (e.g. to reuse a dataset that predates the marks).
"""

from __future__ import annotations

import contextlib
import http.client
import math
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scoms"


# --- output -----------------------------------------------------------------------------------
def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "nan"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value).replace(" ", "_")


def bench_line(name: str, **figures: Any) -> str:
    """Print (and return) the one closing line `BENCH <name> key=value …`."""
    line = " ".join([f"BENCH {name}", *(f"{key}={_format(value)}" for key, value in figures.items())])
    print(line, flush=True)
    return line


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the BENCH line (and short summaries)."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- numbers ----------------------------------------------------------------------------------
def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (pct in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


class Stopwatch:
    """`with Stopwatch() as sw: …` then `sw.seconds` / `sw.ms`."""

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started

    @property
    def ms(self) -> float:
        return self.seconds * 1000


class CpuMeter:
    """CPU seconds spent by this process and, optionally, other processes (e.g. its PostgreSQL
    backend or gunicorn workers) between start() and stop() — a per-order cost that stays
    meaningful when other work shares the machine, unlike wall-clock rates."""

    def __init__(self, pids: Sequence[int] = ()) -> None:
        import psutil  # noqa: F401 — imported now, not in the timed start()

        self.pids = list(pids)

    @staticmethod
    def _others(pids: Sequence[int]) -> float:
        import psutil

        total = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total

    def start(self) -> CpuMeter:
        self._own = time.process_time()
        self._other = self._others(self.pids)
        return self

    def stop(self) -> dict[str, float]:
        return {"own_cpu_s": time.process_time() - self._own, "other_cpu_s": self._others(self.pids) - self._other}


# --- database ---------------------------------------------------------------------------------
def configured_database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def bench_database_url(suffix: str) -> str:
    """The benchmark database on the configured server: `<name>_<suffix>`."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    parts = urlsplit(configured_database_url())
    name = parts.path.lstrip("/") or "scoms"
    if not name.endswith(f"_{suffix}"):
        name = f"{name}_{suffix}"
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def psycopg_conninfo(url: str, *, database: str | None = None) -> dict[str, Any]:
    """psycopg connection keywords for a postgres:// URL (host may be a quoted socket dir)."""
    import dj_database_url

    config = dj_database_url.parse(url)
    info: dict[str, Any] = {"dbname": database or config["NAME"], "user": config.get("USER") or "postgres"}
    if config.get("HOST"):
        info["host"] = config["HOST"]
    if config.get("PORT"):
        info["port"] = config["PORT"]
    if config.get("PASSWORD"):
        info["password"] = config["PASSWORD"]
    return info


def connect(url: str | None = None, *, autocommit: bool = False) -> Any:
    """A plain psycopg 3 connection to the benchmark database (for the raw-SQL limits)."""
    import psycopg

    return psycopg.connect(**psycopg_conninfo(url or os.environ["DATABASE_URL"]), autocommit=autocommit)


def ensure_database(url: str) -> bool:
    """Create the database when missing; True if it was created."""
    import psycopg
    from psycopg import sql

    info = psycopg_conninfo(url)
    name = info["dbname"]
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


MARK_PREFIX = "scoms benchmark database of "


class BenchDatabaseRefused(RuntimeError):
    """The benchmark database exists but was not prepared by this benchmark."""


def database_mark(url: str) -> str | None:
    """The benchmark name a database is marked with; None when unmarked or missing."""
    import psycopg

    info = psycopg_conninfo(url)
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [info["dbname"]]
        ).fetchone()
    comment = row[0] if row else None
    return comment[len(MARK_PREFIX):] if comment and comment.startswith(MARK_PREFIX) else None


def mark_database(url: str, owner: str) -> None:
    import psycopg
    from psycopg import sql

    info = psycopg_conninfo(url)
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(info["dbname"]), sql.Literal(MARK_PREFIX + owner)))


def claim_database(url: str, owner: str) -> None:
    """Create the benchmark database marked as `owner`'s, or check that it is `owner`'s.

    Raises BenchDatabaseRefused for a database that exists without `owner`'s mark (unless
    BENCH_CLAIM_DATABASE=1, which marks it): nothing has been written to it then.
    """
    name = psycopg_conninfo(url)["dbname"]
    if ensure_database(url):
        mark_database(url, owner)
        log(f"created benchmark database {name} for {owner}")
        return
    mark = database_mark(url)
    if mark == owner:
        return
    if os.environ.get("BENCH_CLAIM_DATABASE") == "1":
        mark_database(url, owner)
        log(f"database {name} (marked {mark or 'by nobody'}) is now marked as {owner}'s (BENCH_CLAIM_DATABASE=1)")
        return
    found = f"prepared by the benchmark {mark!r}" if mark else "not prepared by any benchmark (no mark)"
    raise BenchDatabaseRefused(
        f"refusing to run {owner} on database {name}: it exists but was {found}, so it may hold rows that "
        f"would skew or break {owner}. Drop it (dropdb {name}) and {owner} creates its own afresh, or set "
        f"BENCH_CLAIM_DATABASE=1 if you know it holds only {owner}'s data."
    )


def setup_django(name: str, *, migrate: bool = True) -> str:
    """Point this process (and its children) at benchmark `name`'s own database; set Django up.

    Once per process: Django cannot be pointed at another database after setup, so every
    benchmark runs in a process of its own (bench/__main__.py).
    """
    from django.conf import settings

    if settings.configured:
        raise RuntimeError(f"Django is already set up in this process; run {name} in a process of its own")
    url = bench_database_url(name)
    claim_database(url, name)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench._settings"
    os.environ.setdefault("DB_CONN_MAX_AGE", "600")
    # The development defaults (secret key, no HTTPS redirect); bench._settings turns DEBUG off.
    os.environ.setdefault("DEBUG", "1")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return url


def close_shared_connections() -> None:
    """Close every connection a forked child could inherit (database, broker, cache)."""
    from django.core.cache import caches
    from django.db import connections

    connections.close_all()
    with contextlib.suppress(Exception):
        caches.close_all()
    with contextlib.suppress(Exception):
        from celery import current_app

        current_app.pool.force_close_all()


# --- parallel clients -------------------------------------------------------------------------
ClientFn = Callable[..., Any]


def _process_entry(target: ClientFn, index: int, barrier: Any, queue: Any, args: tuple) -> None:
    try:
        result = target(index, barrier, *args)
        queue.put((index, True, result))
    except BaseException as exc:  # noqa: BLE001 — report any failure to the parent
        with contextlib.suppress(Exception):
            barrier.abort()
        queue.put((index, False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()


def run_clients(
    target: ClientFn, count: int, *, args: tuple = (), processes: bool = True, timeout: float = 600
) -> tuple[list[Any], float]:
    """Run `target(index, barrier, *args)` in `count` processes (or threads) at once.

    Every client calls `barrier.wait()` when it is ready (connected, warmed up); the parent
    waits on the same barrier, so the returned start time (time.monotonic(), which all
    processes share on Linux) is when the whole group was released. Returns (results in index
    order, start time). Any client failure raises RuntimeError with its traceback.
    """
    if processes:
        close_shared_connections()
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(count + 1)
        queue = context.Queue()
        workers = [
            context.Process(target=_process_entry, args=(target, index, barrier, queue, args), daemon=True)
            for index in range(count)
        ]
    else:
        barrier = threading.Barrier(count + 1)
        queue = _ThreadQueue()
        workers = [
            threading.Thread(target=_process_entry, args=(target, index, barrier, queue, args), daemon=True)
            for index in range(count)
        ]
    for worker in workers:
        worker.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=120)
    started = time.monotonic()
    results: dict[int, Any] = {}
    errors: list[str] = []
    deadline = time.monotonic() + timeout
    while len(results) + len(errors) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            errors.append("timed out waiting for clients")
            break
        try:
            index, ok, payload = queue.get(timeout=remaining)
        except Exception:  # noqa: BLE001 — queue.Empty from either queue type
            errors.append("timed out waiting for clients")
            break
        if ok:
            results[index] = payload
        else:
            errors.append(f"client {index}: {payload}")
    for worker in workers:
        worker.join(timeout=5)
        if processes and worker.is_alive():
            worker.kill()
    if errors:
        raise RuntimeError("\n".join(errors))
    return [results[index] for index in range(count)], started


class _ThreadQueue:
    def __init__(self) -> None:
        import queue

        self._queue: queue.Queue = queue.Queue()

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def get(self, timeout: float) -> Any:
        return self._queue.get(timeout=timeout)


# --- gunicorn ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(*, workers: int = 4, threads: int = 1, timeout: float = 60) -> Iterator[tuple[str, int, int]]:
    """Start gunicorn (scoms.wsgi, bench settings and database) on a free local port.

    Yields (host, port, master pid); stops the server (its whole process group) on exit.
    """
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench._settings"}
    command = [
        sys.executable, "-m", "gunicorn", "scoms.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--timeout", "120",
        "--log-level", "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with code {process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer in time") from None
                time.sleep(0.2)
        yield "127.0.0.1", port, process.pid
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def flag(argv: Sequence[str], name: str, default: str | None = None) -> str | None:
    """`--name=value` or `--name value` from argv."""
    for index, arg in enumerate(argv):
        if arg == f"--{name}" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return default


def process_tree(pid: int) -> list[int]:
    """The pid and all its descendants (e.g. gunicorn's master and workers)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        return [pid, *(child.pid for child in parent.children(recursive=True))]
    except psutil.Error:
        return []
