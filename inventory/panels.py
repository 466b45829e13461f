"""Extra panels on the product page, provided by higher apps (inventory imports none of them).

A higher app fills inventory.hooks.PRODUCT_PANELS from its `AppConfig.ready()` with a function
`(product, request) -> ProductPanel | None`:

    hooks.fill(inventory_hooks.PRODUCT_PANELS, forecast_panel)

The product detail view asks every filler; one answering None (the user may not see it, nothing
to show) leaves its panel out. The panels show in `order`; the template gets `context` as `panel`.
`scripts` are static paths the page loads (once each, in order) only when the panel is shown.
Fillers must keep their query count independent of the product's ledger size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from inventory import hooks


@dataclass(frozen=True, slots=True)
class ProductPanel:
    """One panel to include: its template, the dict it renders, its place and its scripts."""

    name: str
    template_name: str
    context: dict[str, Any]
    order: int = 100
    scripts: tuple[str, ...] = ()


def product_panels(*, product: Any, request: HttpRequest) -> list[ProductPanel]:
    """The panels to show for `product` to `request.user`, in order."""
    shown = [panel for panel in hooks.PRODUCT_PANELS.results(product, request) if panel is not None]
    return sorted(shown, key=lambda panel: (panel.order, panel.name))


def panel_scripts(panels: Iterable[ProductPanel]) -> list[str]:
    """Every static script the shown panels need, each once, in first-seen order."""
    return list(dict.fromkeys(script for panel in panels for script in panel.scripts))
