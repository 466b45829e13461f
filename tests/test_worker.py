"""Background work through the transactional outbox and a real Celery worker process.

Each test has its own Redis (`private_redis`) and worker (`celery_worker_process`) on the test
database. The worker's relay thread publishes what the tests enqueue; `outbox.drain` called in
this process publishes through `private_celery_app`, pointed at the same Redis.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.db import connection, transaction

from core import outbox
from core.models import OutboxMessage, WorkerHeartbeat
from core.tasks import worker_heartbeat_task
from tests.conftest import ROOT, child_env, wait_until

HEARTBEAT_TASK = worker_heartbeat_task.name

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def enqueue_heartbeat(source: str) -> OutboxMessage:
    with transaction.atomic():
        return outbox.enqueue(worker_heartbeat_task, kwargs={"source": source})


def heartbeats(source: str) -> int:
    return WorkerHeartbeat.objects.filter(source=source).count()


def run_sentinel_through_the_queue() -> None:
    """Enqueue one more task and wait for it: the solo worker runs its queue in order, so
    everything published before the sentinel has been handled once the sentinel has run."""
    enqueue_heartbeat("sentinel")
    wait_until(lambda: heartbeats("sentinel") == 1, timeout=15)
    WorkerHeartbeat.objects.filter(source="sentinel").delete()


def test_task_enqueued_in_a_committed_transaction_runs_once_in_a_real_worker(
    private_celery_app, celery_worker_process
):
    celery_worker_process()

    message = enqueue_heartbeat("committed")

    wait_until(lambda: heartbeats("committed") == 1, timeout=15)
    run_sentinel_through_the_queue()
    message.refresh_from_db()
    assert heartbeats("committed") == 1
    assert message.sent_at is not None
    assert message.processed_at is not None
    assert message.attempts == 1
    assert message.last_error == ""


def test_task_enqueued_in_a_rolled_back_transaction_is_never_sent(private_celery_app, celery_worker_process):
    celery_worker_process()

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(worker_heartbeat_task, kwargs={"source": "rolled-back"})
        raise RuntimeError("the business write failed")

    run_sentinel_through_the_queue()
    assert heartbeats("rolled-back") == 0
    assert not OutboxMessage.objects.filter(kwargs__source="rolled-back").exists()


def test_work_committed_while_redis_is_down_runs_exactly_once_after_redis_returns(
    private_redis, private_celery_app, celery_worker_process
):
    # Given the broker is down
    private_redis.stop()

    # When work that enqueues a task commits
    started = time.monotonic()
    message = enqueue_heartbeat("outage")
    commit_seconds = time.monotonic() - started

    # Then the commit never waited on the broker and the message waits in the outbox
    assert commit_seconds < 1
    message.refresh_from_db()
    assert message.sent_at is None and message.processed_at is None
    # and a relay pass while Redis is down sends nothing, loses nothing, uses up no attempt
    assert outbox.drain(app=private_celery_app) == 0
    message.refresh_from_db()
    assert message.sent_at is None
    assert message.last_error
    assert message.attempts == 0

    # When Redis is back and a worker (whose relay thread publishes the outbox) starts
    private_redis.start()
    celery_worker_process()

    # Then the task runs exactly once
    wait_until(lambda: heartbeats("outage") == 1, timeout=15)
    message.refresh_from_db()
    assert message.processed_at is not None
    assert message.attempts == 1
    assert message.last_error == ""

    # And neither another relay pass nor a duplicate delivery runs it again
    assert outbox.drain(app=private_celery_app) == 0
    for _duplicate in range(2):
        private_celery_app.send_task(HEARTBEAT_TASK, kwargs={"source": "outage", "_outbox_id": message.pk})
    run_sentinel_through_the_queue()
    assert heartbeats("outage") == 1


def test_beat_schedules_the_outbox_drain(private_redis, test_database_url, tmp_path):
    # Given `celery beat` as `python3 -m scoms beat` and docker-compose run it, draining every second
    env = child_env(
        DATABASE_URL=test_database_url, REDIS_URL=private_redis.url, DEBUG="1", OUTBOX_DRAIN_SECONDS="1"
    )
    log_path = tmp_path / "beat.log"
    with log_path.open("wb") as log:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "scoms", "beat", "--loglevel", "INFO",
             "--schedule", str(tmp_path / "celerybeat-schedule")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    broker = redis.Redis.from_url(private_redis.url)
    try:
        # When it has run for a moment, then the drain task is waiting in the broker's queue
        def queued_task_names() -> set[str]:
            if beat.poll() is not None:
                pytest.fail(f"celery beat exited with {beat.returncode}:\n{log_path.read_text()}")
            return {json.loads(raw)["headers"]["task"] for raw in broker.lrange("celery", 0, -1)}

        wait_until(lambda: "core.tasks.drain_outbox_task" in queued_task_names(), timeout=20)
    finally:
        beat.terminate()
        beat.wait(timeout=15)
        broker.close()


def test_concurrent_relays_publish_every_message_exactly_once(private_redis, private_celery_app):
    # Given 300 committed messages
    OutboxMessage.objects.bulk_create(outbox.new_message(worker_heartbeat_task, kwargs={"source": f"m{n}"})
                                      for n in range(300))

    # When three relays drain at once, in small batches, each on its own database connection
    def relay() -> int:
        sent = 0
        try:
            while batch := outbox.drain(batch_size=25, app=private_celery_app):
                sent += batch
        finally:
            connection.close()
        return sent

    with ThreadPoolExecutor(max_workers=3) as pool:
        counts = list(pool.map(lambda _n: relay(), range(3)))

    # Then the broker holds each message once (SKIP LOCKED claims never overlap)
    broker = redis.Redis.from_url(private_redis.url)
    try:
        queued = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    finally:
        broker.close()
    # a Celery message body is base64 JSON: [args, kwargs, embed]
    outbox_ids = sorted(json.loads(base64.b64decode(message["body"]))[1]["_outbox_id"] for message in queued)
    assert sum(counts) == 300
    assert outbox_ids == sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
