from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import accounts
from core import views as core_views
from core.login import LoginForm
from orders import views as orders_views

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

urlpatterns = [
    path("", include("core.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),  # rate-limited
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("api/v1/", include("scoms.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("orders/", include("orders.urls")),
    path("inventory/", include("inventory.urls")),
    path("purchasing/", include("suppliers.urls")),
    path("logistics/", include("logistics.urls")),
    path("analytics/", include("analytics.urls")),
    path("integrations/", include("integrations.urls")),
    path("track/<str:token>/", orders_views.track, name="track"),
    # Last: any other /api/ URL is a JSON 404 (core.views.api_not_found).
    re_path(r"^api/(?P<path>.*)$", core_views.api_not_found),
]
