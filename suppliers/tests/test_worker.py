"""The replenishment job through a real Celery worker (own Redis, the test database)."""

from __future__ import annotations

import pytest

from core.models import JobRun
from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers import jobs
from suppliers.models import PurchaseOrderLine
from suppliers.tests.factories import ReorderPolicyFactory, SupplierFactory, offer
from tests.conftest import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def finished(run_id: int) -> bool:
    run = JobRun.objects.get(pk=run_id)
    return run.finished_at is not None or run.result.get("state") == "failed"


def test_portal_run_is_executed_once_by_a_real_worker(private_celery_app, celery_worker_process):
    warehouse, supplier = WarehouseFactory(), SupplierFactory()
    for n in range(5):
        product = ProductFactory(sku=f"W-{n}")
        offer(product, supplier)
        ReorderPolicyFactory(product=product, warehouse=warehouse, min_quantity=5, max_quantity=25)
    worker = celery_worker_process()

    run = jobs.request_manual_run()
    wait_until(lambda: finished(run.pk), timeout=60)

    run.refresh_from_db()
    assert run.result["state"] == "done", (run.result, worker.output()[-3000:])
    assert (run.result["created_pos"], run.result["created_lines"]) == (1, 5)
    assert PurchaseOrderLine.objects.count() == 5

    # The same beat slot fired by two schedulers: one JobRun, no new lines.
    for _ in range(2):
        private_celery_app.send_task("suppliers.tasks.run_replenishment_task",
                                     kwargs={"job": jobs.NIGHTLY, "slot": "2026-01-01"})
    wait_until(lambda: JobRun.objects.filter(job=jobs.NIGHTLY, slot="2026-01-01", finished_at__isnull=False).exists(),
               timeout=60)
    nightly = JobRun.objects.get(job=jobs.NIGHTLY, slot="2026-01-01")
    assert nightly.result["created_lines"] == 0
    assert PurchaseOrderLine.objects.count() == 5
