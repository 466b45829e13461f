from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        from core.selectors import register_dashboard_tiles
        from inventory.selectors import dashboard_tiles

        register_dashboard_tiles("inventory", dashboard_tiles)

        from core.demo import register_demo_seeder
        from inventory import demo

        register_demo_seeder("inventory", demo.seed)
