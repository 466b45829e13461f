"""Replenishment runs as JobRun rows: one per job and time slot, claimed by one worker at a time.

A beat job computes its slot (the day for the nightly run, the hour for the critical run), so two
beat schedulers firing the same slot share one JobRun row. The worker that runs it holds a
session advisory lock on the row's id while planning: a duplicate delivery waits for that lock,
then finds the row finished and does nothing. If a worker dies mid-run, PostgreSQL drops its
lock and rolls back its transaction; the redelivered task (acks_late) runs the slot again, and
the planner, being idempotent, creates each needed line once. The redelivery must wait rather
than give up on a taken lock: a killed worker's backend keeps the lock until it notices its
client is gone, which is only when its current statement ends (tests/test_reliability_worker.py).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import outbox
from core.models import JobRun
from suppliers import tasks

logger = logging.getLogger(__name__)

NIGHTLY = "replenishment.nightly"
CRITICAL = "replenishment.critical"
MANUAL = "replenishment.manual"
JOBS = (NIGHTLY, CRITICAL, MANUAL)
LOCK_CLASS = 0x5C01  # first key of pg_try_advisory_lock(int, int); the second is the JobRun id


def current_slot(job: str) -> str:
    now = timezone.localtime()
    if job == CRITICAL:
        return now.strftime("%Y-%m-%dT%H")
    if job == NIGHTLY:
        return now.strftime("%Y-%m-%d")
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def job_run_for_slot(*, job: str, slot: str) -> JobRun:
    """The JobRun of this slot, created if needed (the unique key settles races)."""
    try:
        with transaction.atomic():
            run, _created = JobRun.objects.get_or_create(job=job, slot=slot, defaults={"result": {"state": "queued"}})
    except IntegrityError:
        run = JobRun.objects.get(job=job, slot=slot)
    return run


def request_manual_run(*, user: Any = None) -> JobRun:
    """The portal button: a JobRun of its own, executed by a worker after commit."""
    with transaction.atomic():
        run = JobRun.objects.create(job=MANUAL, slot=current_slot(MANUAL), result={"state": "queued"})
        outbox.enqueue(tasks.run_replenishment_task, kwargs={"job": MANUAL, "job_run_id": run.pk,
                                     "user_id": user.pk if getattr(user, "pk", None) else None})
    return run


def _lock(job_run_id: int) -> None:
    """Wait for the JobRun's lock: held by a live run of it, or by a dead worker's session."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_CLASS, job_run_id % 2_147_483_647])


def _unlock(job_run_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, job_run_id % 2_147_483_647])


def execute_replenishment_run(
    *, job_run_id: int, critical_only: bool = False, user_id: int | None = None,
) -> dict[str, Any] | None:
    """Run the planner for this JobRun once: wait while it runs elsewhere, skip it once finished."""
    from suppliers.planner import run_replenishment

    _lock(job_run_id)
    try:
        run = JobRun.objects.filter(pk=job_run_id).first()
        if run is None or run.finished_at is not None:
            return run.result if run is not None else None
        started = timezone.now()
        JobRun.objects.filter(pk=job_run_id).update(result={"state": "running", "started": started.isoformat()})
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        try:
            planned = run_replenishment(user=user, critical_only=critical_only or run.job == CRITICAL)
        except Exception as exc:
            JobRun.objects.filter(pk=job_run_id).update(
                result={"state": "failed", "error": f"{type(exc).__name__}: {exc}"[:500]}
            )
            raise
        result = {"state": "done", "seconds": round((timezone.now() - started).total_seconds(), 2),
                  **{k: v for k, v in planned.as_dict().items() if k != "purchase_order_ids"},
                  "purchase_order_ids": planned.purchase_order_ids[:200]}
        JobRun.objects.filter(pk=job_run_id).update(result=result, finished_at=timezone.now())
        return result
    finally:
        _unlock(job_run_id)
