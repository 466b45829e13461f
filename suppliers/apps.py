from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliersConfig(AppConfig):
    name = "suppliers"
    verbose_name = _("Purchasing")

    def ready(self) -> None:
        # Hook points of the lower apps (core.hooks; DESIGN.md: no upward imports, no signals).
        from core import hooks
        from inventory import hooks as inventory_hooks
        from suppliers import demo, panels, selectors

        hooks.fill(inventory_hooks.EXPECTED_SUPPLY_DATES, selectors.expected_supply_dates)
        hooks.fill(inventory_hooks.LOW_STOCK, selectors.low_stock_rows)
        # demand forecast + reorder policies on the inventory product page
        hooks.fill(inventory_hooks.PRODUCT_PANELS, panels.product_forecast_panel)
        hooks.fill(hooks.DASHBOARD_TILES, selectors.dashboard_tiles, section="purchasing")
        hooks.fill(hooks.DEMO_SEEDERS, demo.seed)
