from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        from core import hooks
        from inventory import demo, selectors

        hooks.fill(hooks.DASHBOARD_TILES, selectors.dashboard_tiles, section="inventory")
        hooks.fill(hooks.DEMO_SEEDERS, demo.seed)
