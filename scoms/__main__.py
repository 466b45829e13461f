"""The SCOMS launcher: python3 -m scoms run | test | manage ARGS… | bench [NAME…] | worker | beat

Standard library only until it runs inside .venv: under any other Python it creates .venv (with
python3.11 when that is on PATH), installs the pinned requirements.txt — again whenever that file
changes — and re-executes itself there. Inside .venv it starts the embedded PostgreSQL and Redis
unless DATABASE_URL / REDIS_URL are set (scoms/embedded.py), then runs the command.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"
DEMO_LOGIN = ("admin", "admin")
USAGE = "usage: python3 -m scoms {run,test,manage,bench,worker,beat} [ARGS…]"


def log(message: str) -> None:
    print(f"scoms: {message}", file=sys.stderr, flush=True)


# --- .venv ----------------------------------------------------------------------------------
def _inside_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _base_python() -> str:
    """The interpreter to create .venv with: $PYTHON, else python3.11 on PATH, else this one."""
    if os.environ.get("PYTHON"):
        return os.environ["PYTHON"]
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return shutil.which("python3.11") or sys.executable


def ensure_venv() -> None:
    """Create .venv and install requirements.txt when .venv is missing or the file changed."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    installed = STAMP.read_text().strip() if STAMP.exists() else ""
    if VENV_PYTHON.exists() and installed == wanted:
        return
    log("installing dependencies into .venv (first run or requirements.txt changed)…")
    if not VENV_PYTHON.exists():
        subprocess.run([_base_python(), "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    STAMP.write_text(wanted + "\n")


# --- commands -------------------------------------------------------------------------------
def call(args: list[str]) -> int:
    """Run a child in the foreground; Ctrl-C reaches it, we wait for it to finish."""
    process = subprocess.Popen(args, cwd=ROOT)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "scoms", *args]


def _beat_schedule() -> list[str]:
    return ["--schedule", str(ROOT / "var" / "celerybeat-schedule")]


def manage(args: list[str]) -> int:
    return call([sys.executable, "manage.py", *args])


def cmd_run(args: list[str]) -> int:
    if manage(["migrate", "--noinput"]) != 0:
        return 1
    if manage(["seed_demo"]) != 0:
        return 1
    bind = os.environ.get("SCOMS_BIND", "127.0.0.1:8000")
    children = {
        "web": subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "scoms.wsgi", "--bind", bind,
             "--workers", os.environ.get("WEB_CONCURRENCY", "3"), "--timeout", "60",
             "--access-logfile", "-"],
            cwd=ROOT, start_new_session=True,
        ),
        "worker": subprocess.Popen(
            _celery("worker", "--loglevel", "INFO", "--concurrency", os.environ.get("CELERY_CONCURRENCY", "2")),
            cwd=ROOT, start_new_session=True,
        ),
        "beat": subprocess.Popen(
            _celery("beat", "--loglevel", "INFO", *_beat_schedule()), cwd=ROOT, start_new_session=True,
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
    return call([sys.executable, "-m", "pytest", *args])


def cmd_bench(args: list[str]) -> int:
    return call([sys.executable, "-m", "bench", *args])


def cmd_worker(args: list[str]) -> int:
    return call(_celery("worker", "--loglevel", "INFO", *args))


def cmd_beat(args: list[str]) -> int:
    return call(_celery("beat", "--loglevel", "INFO", *_beat_schedule(), *args))


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
        print(USAGE)
        return 2
    ensure_venv()
    if not _inside_venv():
        # Re-execute inside .venv: from here on the pinned packages are importable.
        os.chdir(ROOT)
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), "-m", "scoms", *argv])  # noqa: S606 — our own argv
    os.chdir(ROOT)
    from scoms import embedded

    embedded.ensure_services()
    try:
        return COMMANDS[argv[0]](argv[1:])
    finally:
        embedded.release_redis()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
