"""`python3 -m scoms bench [NAME…] [--option=value…]`: run benchmark workloads (bench/<name>.py,
each with `main(argv) -> int`; a dotted module path runs a benchmark module from elsewhere).

Each workload prints exactly one closing line `BENCH <name> key=value …` (see DESIGN.md).
One benchmark runs in this process; several run one after another, each in a process of its own:
a process configures Django once, with its benchmark's own database (bench._util.setup_django),
and the next benchmark must not inherit it. Options go to every benchmark named. Exit status:
0 when all passed, else the first failure's (3: a benchmark refused its database).
Never part of the test suite.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFUSED = 3


def available() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not module.name.startswith("_")
    )


def _is_module_path(arg: str) -> bool:
    return "." in arg and all(part.isidentifier() for part in arg.split("."))


def split_arguments(argv: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(benchmark names, options, unknown words). `--name value` keeps its value an option."""
    names, options, unknown = [], [], []
    known = available()
    for index, arg in enumerate(argv):
        previous = argv[index - 1] if index else ""
        if arg.startswith("-"):
            options.append(arg)
        elif arg in known or _is_module_path(arg):
            names.append(arg)
        elif previous.startswith("--") and "=" not in previous:
            options.append(arg)
        else:
            unknown.append(arg)
    return names, options, unknown


def run_here(name: str, options: list[str]) -> int:
    from bench._util import BenchDatabaseRefused

    module = importlib.import_module(name if "." in name else f"bench.{name}")
    try:
        return module.main(options) or 0
    except BenchDatabaseRefused as exc:
        print(f"bench: {exc}", file=sys.stderr, flush=True)
        return REFUSED


def main(argv: list[str]) -> int:
    names, options, unknown = split_arguments(argv)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    names = names or available()
    if len(names) == 1:
        return run_here(names[0], options)
    status = 0
    for name in names:
        process = subprocess.Popen([sys.executable, "-m", "bench", name, *options], cwd=ROOT)
        print(f"bench: {name} runs in process {process.pid}", file=sys.stderr, flush=True)
        code = process.wait()
        if code and not status:
            status = code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
