from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliersConfig(AppConfig):
    name = "suppliers"
    verbose_name = _("Purchasing")

    def ready(self) -> None:
        # Explicit registries the lower apps expose (DESIGN.md: no upward imports, no signals).
        from core.demo import register_demo_seeder
        from core.selectors import register_dashboard_tiles
        from inventory import hooks
        from inventory.selectors import LOW_STOCK_PROVIDERS
        from suppliers import demo, panels, selectors

        hooks.register_supply_date_provider(selectors.expected_supply_dates)
        if selectors.low_stock_rows not in LOW_STOCK_PROVIDERS:
            LOW_STOCK_PROVIDERS.append(selectors.low_stock_rows)
        register_demo_seeder("suppliers", demo.seed)
        register_dashboard_tiles("purchasing", selectors.dashboard_tiles)
        panels.register()  # demand forecast + reorder policies on the inventory product page
