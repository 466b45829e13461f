"""DESIGN.md's layering: core imports no domain app (they plug into core.hooks; the project's URL
configuration names their APIs)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOMAIN_APPS = {"inventory", "orders", "suppliers", "logistics", "analytics", "integrations"}


def imported_apps(path: Path) -> set[str]:
    """The top-level packages a module imports (anywhere in it, inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_core_imports_no_domain_app():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & DOMAIN_APPS)
        for path in sorted((ROOT / "core").rglob("*.py"))
        if imported_apps(path) & DOMAIN_APPS
    }

    assert offenders == {}


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "upward.py"
    module.write_text("def f():\n    from orders import services\n")

    assert imported_apps(module) & DOMAIN_APPS == {"orders"}
