"""Real-process tools for the reliability tests (R8 to R11): a TCP proxy that can cut PostgreSQL
away, a gunicorn server, a Celery worker that can be SIGKILLed, a plain HTTP client, and an
e-mail backend writing to a directory named by the environment.

Nothing here mocks the database or the broker: the proxy relays real PostgreSQL traffic and an
"outage" is real sockets being closed and connections refused.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from django.core.mail.backends import filebased

from tests.conftest import ROOT, child_env, free_port, wait_until


# --- a TCP relay in front of PostgreSQL -------------------------------------------------------
class TcpProxy:
    """Relays 127.0.0.1:<port> to a TCP or unix-socket upstream, one thread per direction.

    `cut()` simulates the database going away: the listener closes (new connections are
    refused at once, as when PostgreSQL is down) and every relayed connection is shut down in
    both directions (clients see "server closed the connection unexpectedly"; PostgreSQL sees
    its client vanish and rolls back whatever it had open). `restore()` listens again on the
    same port.
    """

    def __init__(self, upstream: tuple[str, int] | str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self.connections_made = 0

    @classmethod
    def for_database(cls, settings_dict: dict[str, Any]) -> TcpProxy:
        host = settings_dict.get("HOST") or ""
        port = int(settings_dict.get("PORT") or 5432)
        if not host or host.startswith("/"):
            return cls(f"{host or '/var/run/postgresql'}/.s.PGSQL.{port}")
        return cls((host, port))

    def database_url(self, settings_dict: dict[str, Any]) -> str:
        from tests.conftest import database_url

        return database_url({**settings_dict, "HOST": "127.0.0.1", "PORT": str(self.port)})

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    restore = start

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        with self._lock:
            pairs, self._pairs = list(self._pairs), set()
        for client, server in pairs:
            _close(client)
            _close(server)

    stop = cut

    @property
    def is_up(self) -> bool:
        return self._listener is not None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # the listener was closed by cut()
            try:
                server = self._connect_upstream()
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut while we were connecting
                    _close(client)
                    _close(server)
                    return
                self._pairs.add((client, server))
                self.connections_made += 1
            pair = (client, server)
            threading.Thread(target=self._pump, args=(client, server, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, pair), daemon=True).start()

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.upstream, str):
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server.connect(self.upstream)
        return server

    def _pump(self, source: socket.socket, target: socket.socket, pair: tuple) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._pairs.discard(pair)
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# --- HTTP -------------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float
    error: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    port: int, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """One request on a fresh connection; a transport failure is an Answer with status 0."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    payload = json.dumps(body).encode() if body is not None else None
    all_headers = {"Connection": "close", **({"Content-Type": "application/json"} if payload else {}),
                   **(headers or {})}
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                      time.monotonic() - started)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(0, {}, b"", time.monotonic() - started, error=f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


# --- child processes --------------------------------------------------------------------------
@dataclass
class ChildProcess:
    """A long-running child in its own process group, output in a log file."""

    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, init=False)

    def spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"{self.argv[:4]} exited with {self.process.returncode}:\n{self.output()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def kill_group(self) -> None:
        """SIGKILL the whole process group at once (the main process and every child)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)
        self.process = None


class ServerProcess(ChildProcess):
    """`gunicorn scoms.wsgi` on a free port (sync workers), like the production container."""

    def __init__(self, *, log_path: Path, workers: int = 2, **env: str | None) -> None:
        self.port = free_port()
        super().__init__(
            argv=[sys.executable, "-m", "gunicorn", "scoms.wsgi", "--bind", f"127.0.0.1:{self.port}",
                  "--workers", str(workers), "--timeout", "30", "--graceful-timeout", "5"],
            env=child_env(DEBUG="1", **env),
            log_path=log_path,
        )

    def start(self, *, timeout: float = 30) -> None:
        self.spawn()

        def answering() -> bool:
            self.check_alive()
            return http_request(self.port, "GET", "/favicon.ico", timeout=2).status != 0

        wait_until(answering, timeout=timeout, interval=0.1)

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        return http_request(self.port, method, path, **kwargs)


class CeleryWorker(ChildProcess):
    """`celery -A scoms worker` with a pool of our choice; can be SIGKILLed child or whole."""

    def __init__(
        self, *, database_url: str, redis_url: str, log_path: Path, pool: str = "solo", concurrency: int = 1,
        **env: str | None,
    ) -> None:
        self.name = f"scoms-rel-{uuid.uuid4().hex[:8]}@%h"
        super().__init__(
            argv=[sys.executable, "-m", "celery", "-A", "scoms", "worker", "--pool", pool,
                  "--concurrency", str(concurrency), "--loglevel", "INFO", "--hostname", self.name,
                  "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=child_env(DATABASE_URL=database_url, REDIS_URL=redis_url, DEBUG="1", **env),
            log_path=log_path,
        )

    def start(self, *, timeout: float = 30) -> None:
        already = self.output().count(" ready.")
        self.spawn()

        def ready() -> bool:
            self.check_alive()
            return self.output().count(" ready.") > already

        wait_until(ready, timeout=timeout, interval=0.1)

    def pool_children(self) -> list[psutil.Process]:
        assert self.process is not None
        return psutil.Process(self.process.pid).children()

    def stop(self, sig: int = signal.SIGQUIT) -> None:
        # Cold shutdown: the tests have seen what they waited for.
        super().stop(sig)


# --- e-mail -----------------------------------------------------------------------------------
class DirectoryEmailBackend(filebased.EmailBackend):
    """Django's file backend, writing to $SCOMS_TEST_EMAIL_DIR (settings has no EMAIL_FILE_PATH).

    For child processes: EMAIL_BACKEND=tests.reliability_helpers.DirectoryEmailBackend.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("file_path", os.environ["SCOMS_TEST_EMAIL_DIR"])
        super().__init__(*args, **kwargs)


EMAIL_BACKEND = "tests.reliability_helpers.DirectoryEmailBackend"


def sent_subjects(directory: Path) -> list[str]:
    """The Subject of every message the DirectoryEmailBackend wrote into `directory`."""
    subjects = []
    for path in sorted(directory.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("Subject: "):
                subjects.append(line.removeprefix("Subject: "))
    return subjects


# --- order intake -----------------------------------------------------------------------------
ORDERS_URL = "/api/v1/orders/"
INTAKE_SKUS = ("REL-0001", "REL-0002", "REL-0003")


def stock_for_intake(*, units: int = 100_000) -> None:
    """Channel `web`, one warehouse and INTAKE_SKUS with plenty of units (committed data)."""
    from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
    from orders.tests.factories import ChannelFactory

    ChannelFactory(code="web")
    warehouse = WarehouseFactory(code="REL1", priority=1)
    for sku in INTAKE_SKUS:
        give_stock(ProductFactory(sku=sku), warehouse, units)


def api_token(user: Any) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    token, _created = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


def order_body(external_ref: str, *, sku: str = INTAKE_SKUS[0], quantity: int = 1) -> dict[str, Any]:
    """A POST /api/v1/orders/ body as DESIGN.md writes it."""
    return {
        "channel": "web",
        "external_ref": external_ref,
        "customer": {"name": "Ada Li", "email": "ada@example.com"},
        "ship_to": {"line1": "1 Main St", "city": "Shanghai", "postal_code": "200000", "country": "CN",
                    "lat": 31.23, "lon": 121.47},
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "19.90"},
                  {"sku": INTAKE_SKUS[2], "quantity": 1}],
        "allow_backorder": True,
    }


def assert_orders_whole() -> None:
    """Every order has its lines, fully allocated (stock is plentiful), its events and its
    outbox message; and the stock/ledger invariant check is green."""
    from django.db.models import Count, F, Q, Sum

    from core.models import OutboxMessage
    from orders.checks import assert_stock_invariants
    from orders.models import SalesOrder

    orders = SalesOrder.objects.annotate(
        line_count=Count("lines", distinct=True),
        unallocated=Sum(F("lines__quantity") - F("lines__quantity_allocated")),
        event_count=Count("events", distinct=True),
    )
    broken = list(orders.filter(Q(line_count__lt=2) | ~Q(unallocated=0) | Q(event_count=0))
                  .values_list("external_ref", "line_count", "unallocated", "event_count"))
    assert broken == [], f"half-written orders: {broken[:10]}"
    order_ids = set(SalesOrder.objects.values_list("pk", flat=True))
    outboxed = [kwargs["order_id"] for kwargs in OutboxMessage.objects.filter(
        task_name="orders.tasks.order_placed_task").values_list("kwargs", flat=True)]
    assert sorted(outboxed) == sorted(order_ids), "each order enqueues its confirmation exactly once"
    assert_stock_invariants()


# --- replenishment ----------------------------------------------------------------------------
NEEDS = 5


@contextlib.contextmanager
def planner_held(database_url: str) -> Iterator[None]:
    """Hold the planner's advisory lock from another connection until the block ends."""
    from suppliers.planner import PLANNER_LOCK_KEY

    holder = psycopg.connect(database_url, autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [PLANNER_LOCK_KEY])
        yield
    finally:
        holder.close()  # ends the session: the lock is released


def policies_below_reorder_level() -> None:
    """NEEDS products in warehouse R8 with no stock and a min/max policy: one PO line each."""
    from inventory.tests.factories import ProductFactory, WarehouseFactory
    from suppliers.tests.factories import ReorderPolicyFactory, SupplierFactory, offer

    warehouse, supplier = WarehouseFactory(code="R8"), SupplierFactory(code="r8")
    for number in range(NEEDS):
        product = ProductFactory(sku=f"R8-{number}")
        offer(product, supplier)
        ReorderPolicyFactory(product=product, warehouse=warehouse, min_quantity=5, max_quantity=25)


def planner_waiting_on_its_lock() -> bool:
    """Some other session waits on an advisory lock (the planner's, held by planner_held)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND wait_event = 'advisory' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0] == 1


def assert_one_line_per_need() -> None:
    from suppliers.models import PurchaseOrderLine

    lines = list(PurchaseOrderLine.objects.values_list("product__sku", "warehouse__code"))
    assert sorted(lines) == sorted((f"R8-{number}", "R8") for number in range(NEEDS))
