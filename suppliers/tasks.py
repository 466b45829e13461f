"""Thin Celery tasks for purchasing: the replenishment job, rendering and e-mailing purchase orders.

Services, jobs and documents import this module; the tasks import them inside their bodies
(core.outbox).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core import outbox
from core.outbox import outbox_task
from suppliers.models import PurchaseOrder


# A lost database connection (or a deadlock) ends the planning transaction with nothing
# written: retry 12 times with jittered backoff (at most a minute apart); the JobRun row
# keeps the slot to one completed run.
@shared_task(name="suppliers.tasks.run_replenishment_task", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
             retry_backoff_max=60, max_retries=12)
def run_replenishment_task(
    job: str | None = None, critical_only: bool = False, slot: str | None = None,
    job_run_id: int | None = None, user_id: int | None = None, _outbox_id: int | None = None,
) -> dict[str, Any] | None:
    """Beat (nightly / hourly critical) and the portal button. Runs each JobRun slot once.

    `_outbox_id` comes with the portal's run (enqueued through the outbox); the JobRun row, not the
    outbox claim, is what makes the run happen once (its lock is held only while planning), so
    the message is marked processed after the run rather than claimed before it.
    `job` is one of suppliers.jobs.JOBS (None: jobs.NIGHTLY).
    """
    from suppliers import jobs

    job = job or jobs.NIGHTLY
    if job_run_id is None:
        job_run_id = jobs.job_run_for_slot(job=job, slot=slot or jobs.current_slot(job)).pk
    result = jobs.execute_replenishment_run(job_run_id=job_run_id, critical_only=critical_only, user_id=user_id)
    if _outbox_id is not None:
        outbox.mark_processed(_outbox_id)
    return result


@outbox_task(name="suppliers.tasks.email_purchase_order_task", ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=True, max_retries=5)
def email_purchase_order_task(purchase_order_id: int) -> bool:
    """Render the PDF and e-mail it to the supplier (after the sending transaction committed)."""
    from suppliers.documents import email_purchase_order

    purchase_order = PurchaseOrder.objects.select_related("supplier", "warehouse").filter(pk=purchase_order_id).first()
    if purchase_order is None:
        return False
    return email_purchase_order(purchase_order=purchase_order)


@outbox_task(name="suppliers.tasks.render_purchase_order_pdf_task", ignore_result=True)
def render_purchase_order_pdf_task(purchase_order_id: int, language: str) -> bool:
    """Render a PO's PDF into the document cache (asked for by the portal's PDF view)."""
    from suppliers.documents import purchase_order_pdf

    purchase_order = PurchaseOrder.objects.select_related("supplier", "warehouse").filter(pk=purchase_order_id).first()
    if purchase_order is None:
        return False
    purchase_order_pdf(purchase_order=purchase_order, language=language)
    return True
