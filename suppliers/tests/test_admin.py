"""Every purchasing model has a working admin; the approve action goes through the service."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers import services
from suppliers.models import PurchaseOrder
from suppliers.statuses import PurchaseOrderStatus
from suppliers.tests.factories import SupplierFactory, offer

pytestmark = pytest.mark.django_db


def test_every_model_is_registered_and_its_pages_open(admin_client):
    supplier = SupplierFactory()
    product = ProductFactory()
    offer(product, supplier, breaks=[(10, "9.00")])
    services.purchase_order_create(supplier=supplier, warehouse=WarehouseFactory(),
                                   lines=[services.PurchaseOrderLineInput(product=product.pk, quantity=3)])
    for model in apps.get_app_config("suppliers").get_models():
        assert admin.site.is_registered(model), model
        changelist = reverse(f"admin:suppliers_{model._meta.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        first = model.objects.first()
        if first is not None:
            change = reverse(f"admin:suppliers_{model._meta.model_name}_change", args=[first.pk])
            assert admin_client.get(change).status_code == 200, change


def test_admin_action_approves_through_the_service(admin_client):
    supplier, product = SupplierFactory(), ProductFactory()
    offer(product, supplier)
    po = services.purchase_order_create(supplier=supplier, warehouse=WarehouseFactory(),
                                        lines=[services.PurchaseOrderLineInput(product=product.pk, quantity=3)]
                                        ).purchase_order

    admin_client.post(reverse("admin:suppliers_purchaseorder_changelist"),
                      {"action": "approve_and_send", "_selected_action": [po.pk]})

    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.SENT
    assert po.events.filter(to_status="sent").exists()
    assert PurchaseOrder.objects.count() == 1
