from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # Hook points of the lower apps (core.hooks; DESIGN.md: no upward imports, no signals).
        from core import hooks
        from inventory import hooks as inventory_hooks
        from orders import demo, handlers, selectors

        hooks.fill(inventory_hooks.STOCK_ARRIVED, handlers.offer_stock_to_backorders)
        hooks.fill(inventory_hooks.OPEN_DEMAND, handlers.backordered_units)
        hooks.fill(inventory_hooks.SUPPLY_CHANGED, handlers.renew_promises)
        hooks.fill(hooks.DASHBOARD_TILES, selectors.dashboard_tiles, section="orders")
        hooks.fill(hooks.DEMO_SEEDERS, demo.seed)
