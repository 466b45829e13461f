"""/api/v1/: one router; each app named here adds its routes in its api.py (`register(router, urls)`)."""

from typing import Any

from rest_framework.routers import DefaultRouter

from core.api import ID_PATTERN
from inventory import api as inventory_api
from orders import api as orders_api
from suppliers import api as suppliers_api


class Router(DefaultRouter):
    """Detail routes take ids of core.api.ID_PATTERN unless a viewset sets `lookup_value_regex`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._default_value_pattern = ID_PATTERN


router = Router()
extra_urls: list = []
for app_api in (inventory_api, orders_api, suppliers_api):
    app_api.register(router, extra_urls)

urlpatterns = [*extra_urls, *router.urls]
