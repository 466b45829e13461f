"""/api/v1/: one router; each app registers its viewsets in its own api.py."""

from typing import Any

from rest_framework.routers import DefaultRouter

from core.api import ID_PATTERN, register_all


class Router(DefaultRouter):
    """Detail routes take ids of core.api.ID_PATTERN unless a viewset sets `lookup_value_regex`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._default_value_pattern = ID_PATTERN


router = Router()
extra_urls: list = []
register_all(router, extra_urls)

urlpatterns = [*extra_urls, *router.urls]
