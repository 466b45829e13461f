"""R9 — Redis down while orders are placed, back after a while.

The publishing Celery app (`private_celery_app`) points at a private Redis that the test stops;
orders go through the real API view (DRF test client: authentication, idempotency, service,
outbox row). After Redis returns, a real prefork worker (two processes) starts; its relay thread
publishes the outbox and its pool runs the follow-up task, `orders.tasks.order_placed_task`,
which e-mails a confirmation through a file backend: one e-mail per order proves "exactly once"
for a side effect outside the database.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from rest_framework.test import APIClient

from core import outbox
from core.models import OutboxMessage
from orders.models import SalesOrder
from tests.conftest import wait_until
from tests.reliability_helpers import (
    EMAIL_BACKEND,
    ORDERS_URL,
    CeleryWorker,
    api_token,
    assert_orders_whole,
    order_body,
    sent_subjects,
    stock_for_intake,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ORDER_COUNT = 50
ORDER_PLACED_TASK = "orders.tasks.order_placed_task"
# Requests never talk to the broker (the relay does); one that waited on it would blow this bound.
FAST_ENOUGH_SECONDS = 3


def test_orders_placed_while_redis_is_down_are_saved_and_followed_up_exactly_once_after_it_returns(
    make_user, private_redis, private_celery_app, test_database_url, tmp_path
):
    stock_for_intake()
    client = APIClient()
    client.credentials(**{"HTTP_" + name.upper(): value
                          for name, value in api_token(make_user("Operations", username="r9")).items()})

    # Given the broker is down
    private_redis.stop()

    # When 50 orders arrive through the API
    answers = []
    for number in range(ORDER_COUNT):
        started = time.monotonic()
        response = client.post(ORDERS_URL, data=json.dumps(order_body(f"R9-{number}")),
                               content_type="application/json")
        answers.append((response.status_code, time.monotonic() - started))

    # Then every one is saved, whole, and answered quickly — none is a 500
    assert Counter(status for status, _seconds in answers) == {201: ORDER_COUNT}
    assert max(seconds for _status, seconds in answers) < FAST_ENOUGH_SECONDS
    assert SalesOrder.objects.count() == ORDER_COUNT
    assert_orders_whole()
    # And their follow-up work waits in the outbox, unsent
    pending = OutboxMessage.objects.filter(task_name=ORDER_PLACED_TASK)
    assert pending.count() == ORDER_COUNT
    assert not pending.filter(sent_at__isnull=False).exists()
    assert outbox.drain(app=private_celery_app) == 0  # still down: nothing sent, nothing lost
    assert all(pending.values_list("last_error", flat=True))
    assert not pending.exclude(attempts=0).exists()  # an outage uses up no attempt

    # When Redis is back and a worker runs (its relay thread publishes the outbox)
    private_redis.start()
    mail = tmp_path / "mail"
    mail.mkdir()
    worker = CeleryWorker(
        database_url=test_database_url, redis_url=private_redis.url, log_path=tmp_path / "worker.log",
        pool="prefork", concurrency=2, EMAIL_BACKEND=EMAIL_BACKEND, SCOMS_TEST_EMAIL_DIR=str(mail),
    )
    worker.start()
    try:
        # Then each order's task runs exactly once: one confirmation e-mail per order
        def all_processed() -> bool:
            worker.check_alive()
            return not pending.filter(processed_at__isnull=True).exists()

        wait_until(all_processed, timeout=60)
        expected = sorted(f"Your order {number}" for number in SalesOrder.objects.values_list("number", flat=True))
        wait_until(lambda: len(sent_subjects(mail)) >= ORDER_COUNT, timeout=15)
        assert sorted(sent_subjects(mail)) == expected

        # And neither another drain nor a duplicate delivery sends anything twice
        assert outbox.drain(app=private_celery_app) == 0
        for message in pending.order_by("pk")[:5]:
            private_celery_app.send_task(ORDER_PLACED_TASK, kwargs={**message.kwargs, "_outbox_id": message.pk})
        wait_until(lambda: worker.output().count("already processed") >= 5, timeout=15)
        assert sorted(sent_subjects(mail)) == expected
    finally:
        worker.stop()
