from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="index"),
    path("", views.order_list, name="order_list"),
    path("bulk/", views.order_bulk_action, name="order_bulk_action"),
    path("new/", views.order_create, name="order_create"),
    path("customers/lookup/", views.customer_lookup, name="customer_lookup"),
    path("availability/", views.sku_availability, name="sku_availability"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("<int:pk>/actions/<slug:action>/", views.order_action, name="order_action"),
]
