from django.urls import path

from suppliers import views

app_name = "suppliers"

urlpatterns = [
    path("", views.index, name="index"),
    path("suppliers/", views.supplier_list, name="supplier_list"),
    path("suppliers/new/", views.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier_detail"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="supplier_edit"),
    path("suppliers/<int:supplier_pk>/products/new/", views.supplier_product_edit, name="supplier_product_create"),
    path("suppliers/<int:supplier_pk>/products/<int:pk>/", views.supplier_product_edit, name="supplier_product_edit"),
    path("orders/", views.purchase_order_list, name="purchase_order_list"),
    path("orders/new/", views.purchase_order_create, name="purchase_order_create"),
    path("orders/<int:pk>/", views.purchase_order_detail, name="purchase_order_detail"),
    path("orders/<int:pk>/pdf/", views.purchase_order_pdf, name="purchase_order_pdf"),
    path("orders/<int:pk>/receive/", views.purchase_order_receive, name="purchase_order_receive"),
    path("orders/<int:pk>/acknowledge/", views.purchase_order_acknowledge, name="purchase_order_acknowledge"),
    path("orders/<int:pk>/<slug:action>/", views.purchase_order_action, name="purchase_order_action"),
    path("replenishment/", views.suggestion_list, name="suggestion_list"),
    path("replenishment/approve/", views.suggestion_approve, name="suggestion_approve"),
    path("replenishment/lines/<int:pk>/", views.suggestion_line_quantity, name="suggestion_line_quantity"),
    path("replenishment/run/", views.replenishment_run, name="replenishment_run"),
    path("replenishment/runs/<int:pk>/", views.replenishment_run_status, name="replenishment_run_status"),
    path("scorecards/", views.scorecard_ranking, name="scorecard_ranking"),
]
