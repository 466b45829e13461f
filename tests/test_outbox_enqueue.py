"""core.outbox.enqueue takes the task object and stores the name the relay publishes it under."""

from __future__ import annotations

import pytest
from django.db import transaction

from core import outbox
from core.models import OutboxMessage
from core.tasks import worker_heartbeat_task

pytestmark = pytest.mark.django_db


def test_enqueue_stores_the_tasks_registered_name_and_arguments():
    with transaction.atomic():
        message = outbox.enqueue(worker_heartbeat_task, kwargs={"source": "typed"}, countdown=5)

    stored = OutboxMessage.objects.get(pk=message.pk)
    assert stored.task_name == worker_heartbeat_task.name == "core.tasks.worker_heartbeat_task"
    assert stored.kwargs == {"source": "typed"} and stored.processed_at is None


def test_enqueue_refuses_a_task_named_by_a_string():
    with pytest.raises(TypeError, match="task object"):
        outbox.enqueue("core.tasks.worker_heartbeat_task", kwargs={"source": "by name"})

    assert not OutboxMessage.objects.exists()


def test_new_message_is_unsaved_and_named_like_enqueue():
    message = outbox.new_message(worker_heartbeat_task, kwargs={"source": "bulk"})

    assert message.pk is None and message.task_name == worker_heartbeat_task.name
