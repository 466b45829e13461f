"""R8 and R10 — workers killed mid-task, tasks outliving the broker's visibility timeout.

Real `celery worker` processes on the test database and a private Redis. To catch the
replenishment task mid-flight every time, the test holds the planner's advisory lock
(suppliers.planner.PLANNER_LOCK_KEY) from a connection of its own: the task then stops inside
its planning transaction — JobRun marked running, nothing written yet — exactly where a long
planner run spends its time, and stays there until the test lets go.

R8, pool child killed (`kill -9` of the process running the task): the prefork main process
sees the child die and, with acks_late + reject_on_worker_lost, puts the message back; a new
child runs it. The dead child's PostgreSQL backend lingers while it waits (it only notices its
client is gone when it next talks to it) and still holds the JobRun's session lock: the rerun
must wait for it, not give up.

R8, whole worker killed (SIGKILL to the process group) and restarted: the message was
delivered but never acked; Redis hands it out again only after the visibility timeout
(12 h in production, CELERY_VISIBILITY_TIMEOUT here), at the next worker start-up sweep.

Either way the slot runs to completion once, and there is exactly one PO line per need.

R10: a countdown longer than the visibility timeout makes Redis hand the waiting task out a
second time (at the next start-up sweep of any worker); both copies come due at the ETA, and
the outbox claim lets the work happen once.
(Two beat schedulers firing one slot are covered by suppliers/tests/test_worker.py.)
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction

from core import outbox
from core.models import JobRun, WorkerHeartbeat
from core.tasks import worker_heartbeat_task
from suppliers import jobs
from suppliers.tasks import run_replenishment_task
from tests.conftest import wait_until
from tests.reliability_helpers import (
    NEEDS,
    CeleryWorker,
    assert_one_line_per_need,
    planner_held,
    planner_waiting_on_its_lock,
    policies_below_reorder_level,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HEARTBEAT_TASK = worker_heartbeat_task.name
REPLENISHMENT_TASK = run_replenishment_task.name
SLOT = "2026-02-01"


@pytest.fixture
def start_worker(private_redis, test_database_url: str, tmp_path: Path) -> Iterator:
    """start_worker(pool=…, **env) → a started CeleryWorker; all are stopped before teardown."""
    workers: list[CeleryWorker] = []

    def start(*, pool: str = "prefork", **env: str) -> CeleryWorker:
        worker = CeleryWorker(database_url=test_database_url, redis_url=private_redis.url,
                              log_path=tmp_path / f"worker-{len(workers)}.log", pool=pool, **env)
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def received(worker: CeleryWorker, task_name: str) -> int:
    """How many times the worker's log says it received a `task_name` message."""
    return sum(1 for line in worker.output().splitlines() if f"Task {task_name}[" in line and line.endswith("received"))


def fire_nightly_slot(app) -> None:
    """What celery beat does for the nightly job (beat sends directly, not through the outbox)."""
    app.send_task(REPLENISHMENT_TASK, kwargs={"job": jobs.NIGHTLY, "slot": SLOT})


def nightly_run() -> JobRun | None:
    return JobRun.objects.filter(job=jobs.NIGHTLY, slot=SLOT).first()


def test_replenishment_rerun_after_its_pool_process_is_killed_creates_each_line_once(
    private_celery_app, start_worker, test_database_url
):
    policies_below_reorder_level()
    with planner_held(test_database_url):
        worker = start_worker(pool="prefork")
        (child,) = worker.pool_children()
        # Given the nightly replenishment is running in the worker's pool process
        fire_nightly_slot(private_celery_app)
        wait_until(planner_waiting_on_its_lock, timeout=20)
        assert nightly_run().result["state"] == "running"

        # When that process is killed outright
        child.send_signal(signal.SIGKILL)

        # Then the main process puts the task back and a new pool process takes it up
        wait_until(lambda: "WorkerLostError" in worker.output(), timeout=20)
        wait_until(lambda: received(worker, REPLENISHMENT_TASK) == 2, timeout=20)
        assert child.pid not in {process.pid for process in worker.pool_children()}
    # (and once the killed run's database session is gone, the rerun gets the slot)

    # And the slot finishes once, with exactly one PO line per need
    wait_until(lambda: nightly_run().finished_at is not None, timeout=30)
    run = nightly_run()
    assert run.result["state"] == "done", (run.result, worker.output()[-3000:])
    assert run.result["created_lines"] == NEEDS
    assert_one_line_per_need()
    assert JobRun.objects.filter(job=jobs.NIGHTLY).count() == 1


def test_replenishment_held_by_a_worker_killed_outright_runs_once_after_a_restart(
    private_celery_app, start_worker, test_database_url
):
    policies_below_reorder_level()
    visibility_timeout = 2
    with planner_held(test_database_url):
        first = start_worker(pool="prefork")
        # Given the nightly replenishment is running
        fire_nightly_slot(private_celery_app)
        wait_until(planner_waiting_on_its_lock, timeout=20)

        # When the whole worker (main and pool process) is killed, and restarted later
        first.kill_group()
        time.sleep(visibility_timeout + 0.5)
        second = start_worker(pool="prefork", CELERY_VISIBILITY_TIMEOUT=str(visibility_timeout))

        # Then the restarted worker's start-up sweep hands the unacknowledged task out again
        wait_until(lambda: received(second, REPLENISHMENT_TASK) == 1, timeout=20)

    # And the slot finishes once, with exactly one PO line per need
    wait_until(lambda: nightly_run().finished_at is not None, timeout=30)
    run = nightly_run()
    assert run.result["state"] == "done", (run.result, second.output()[-3000:])
    assert run.result["created_lines"] == NEEDS
    assert_one_line_per_need()


def test_task_whose_countdown_outlasts_the_visibility_timeout_runs_once(private_celery_app, start_worker):
    visibility_timeout, countdown = 2, 8
    first = start_worker(pool="solo", CELERY_VISIBILITY_TIMEOUT=str(visibility_timeout))
    # Given a task scheduled further ahead than the broker's visibility timeout, held by a worker
    with transaction.atomic():
        message = outbox.enqueue(worker_heartbeat_task, kwargs={"source": "eta"}, countdown=countdown)
    wait_until(lambda: received(first, HEARTBEAT_TASK) == 1, timeout=15)

    # When the timeout passes and another worker starts, its start-up sweep puts the task back
    # in the queue, and a worker (either one) receives it a second time
    time.sleep(visibility_timeout + 0.5)
    second = start_worker(pool="solo", CELERY_VISIBILITY_TIMEOUT=str(visibility_timeout))
    wait_until(lambda: received(first, HEARTBEAT_TASK) + received(second, HEARTBEAT_TASK) == 2, timeout=15)

    # Then both copies come due, and the work is done once
    wait_until(lambda: "already processed" in first.output() + second.output(), timeout=30)
    assert WorkerHeartbeat.objects.filter(source="eta").count() == 1
    message.refresh_from_db()
    assert message.processed_at is not None
