"""`python3 -m scoms` is the launcher: standard library only until it runs inside .venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)


def run_launcher(*args: str) -> subprocess.CompletedProcess:
    # -S: no site-packages, as on a fresh machine where nothing but Python 3 is installed.
    return subprocess.run([BASE_PYTHON, "-S", "-m", "scoms", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_launcher_without_a_command_prints_its_usage_under_a_bare_python():
    result = run_launcher()

    assert result.returncode == 2, result.stderr
    assert "usage: python3 -m scoms {run,test,manage,bench,worker,beat}" in result.stdout
    assert "Traceback" not in result.stderr


def test_launcher_refuses_an_unknown_command_without_touching_the_venv():
    result = run_launcher("serve")

    assert result.returncode == 2
    assert "installing dependencies" not in result.stderr


def test_the_project_package_imports_no_third_party_module_before_the_venv_exists():
    code = "import sys, scoms, scoms.__main__; print(sorted(m for m in ('django', 'celery') if m in sys.modules))"
    result = subprocess.run([BASE_PYTHON, "-S", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_launcher_runs_manage_inside_the_venv():
    result = subprocess.run([BASE_PYTHON, "-m", "scoms", "manage", "check"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
