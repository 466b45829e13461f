"""Extra panels on the product page, filled in by higher apps (inventory imports none of them).

A higher app registers a panel from its `AppConfig.ready()`:

    register_product_panel(
        name="suppliers.forecast",
        template_name="suppliers/partials/product_forecast.html",
        context=forecast_panel_context,  # (product, request) -> dict | None
        order=100,
        scripts=("vendor/chartjs-4.6.1/chart.umd.min.js", "js/forecast_chart.js"),
    )

The product detail view calls every context function in `order`; one returning None (the user
may not see it, nothing to show) leaves its panel out. The template gets the dict as `panel`.
`scripts` are static paths the page loads (once each, in order) only when the panel is shown.
Context functions must keep their query count independent of the product's ledger size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

PanelContext = Callable[[Any, HttpRequest], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class ProductPanel:
    name: str
    template_name: str
    context: PanelContext
    order: int = 100
    scripts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderedPanel:
    """One panel to include: its template and the dict its context function returned."""

    name: str
    template_name: str
    context: dict[str, Any]
    scripts: tuple[str, ...]


_panels: dict[str, ProductPanel] = {}


def register_product_panel(
    *,
    name: str,
    template_name: str,
    context: PanelContext,
    order: int = 100,
    scripts: Iterable[str] = (),
) -> None:
    """Add (or replace, by `name` — ready() may run more than once in tests) a product page panel."""
    _panels[name] = ProductPanel(
        name=name, template_name=template_name, context=context, order=order, scripts=tuple(scripts)
    )


def unregister_product_panel(name: str) -> None:
    _panels.pop(name, None)


def registered_product_panels() -> list[ProductPanel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))


def product_panels(*, product: Any, request: HttpRequest) -> list[RenderedPanel]:
    """The panels to show for `product` to `request.user`, in order."""
    rendered = []
    for panel in registered_product_panels():
        context = panel.context(product, request)
        if context is not None:
            rendered.append(RenderedPanel(
                name=panel.name, template_name=panel.template_name, context=context, scripts=panel.scripts
            ))
    return rendered


def panel_scripts(panels: Iterable[RenderedPanel]) -> list[str]:
    """Every static script the shown panels need, each once, in first-seen order."""
    return list(dict.fromkeys(script for panel in panels for script in panel.scripts))
