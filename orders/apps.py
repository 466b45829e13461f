from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from inventory import hooks
        from orders.handlers import backordered_units, offer_stock_to_backorders, renew_promises

        hooks.register_stock_arrived(offer_stock_to_backorders)
        hooks.register_open_demand_provider(backordered_units)
        hooks.register_supply_changed(renew_promises)

        from core.selectors import register_dashboard_tiles
        from orders.selectors import dashboard_tiles

        register_dashboard_tiles("orders", dashboard_tiles)

        from core.demo import register_demo_seeder
        from orders import demo

        register_demo_seeder("orders", demo.seed)
