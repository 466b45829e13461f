"""A purchase-order PDF asked for in the portal is rendered by a real Celery worker, then served."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers.tests.factories import SupplierFactory, offer, sent_order
from tests.conftest import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_pdf_asked_for_in_the_portal_is_rendered_by_a_worker_and_then_served(
    client, purchasing_user, private_celery_app, celery_worker_process
):
    # given a purchase order with many lines
    supplier, warehouse = SupplierFactory(), WarehouseFactory()
    products = [ProductFactory(sku=f"PDF-W-{n:03}") for n in range(40)]
    for product in products:
        offer(product, supplier)
    po = sent_order(supplier, warehouse, *[(product, 2) for product in products])
    client.force_login(purchasing_user)
    url = reverse("suppliers:purchase_order_pdf", args=[po.pk])
    # when the PDF is asked for, then a worker runs
    assert client.get(url).status_code == 202
    celery_worker_process()
    # then the worker renders it, and the same URL serves it
    response = wait_until(lambda: (answer := client.get(url)).status_code == 200 and answer, timeout=60, interval=0.5)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
