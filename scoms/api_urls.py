"""/api/v1/: one router; each app registers its viewsets in its own api.py."""

from rest_framework.routers import DefaultRouter

from core.api import register_all

router = DefaultRouter()
extra_urls: list = []
register_all(router, extra_urls)

urlpatterns = [*extra_urls, *router.urls]
