from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.product_list, name="index"),
    path("products/", views.product_list, name="product_list"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("warehouses/", views.warehouse_list, name="warehouse_list"),
    path("low-stock/", views.low_stock_list, name="low_stock"),
    path("adjust/", views.stock_adjust, name="stock_adjust"),
    path("transfer/", views.stock_transfer, name="stock_transfer"),
    path("count/", views.stock_count, name="stock_count"),
]
