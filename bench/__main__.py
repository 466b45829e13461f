"""`python3 -m scoms bench [NAME…]`: run benchmark workloads (bench/<name>.py, each with `main(argv) -> int`).

Each workload prints exactly one closing line `BENCH <name> key=value …` (see DESIGN.md).
Never part of the test suite.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not module.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    names = [arg for arg in argv if not arg.startswith("-")] or available()
    unknown = [name for name in names if name not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        status = module.main([arg for arg in argv if arg.startswith("-")]) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
