"""Platform tasks: drain and purge the outbox, purge idempotency keys, record worker heartbeats."""

from __future__ import annotations

import socket
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from core import outbox
from core.models import WorkerHeartbeat


@shared_task(name="core.tasks.drain_outbox_task", ignore_result=True)
def drain_outbox_task() -> int:
    return outbox.drain()


@shared_task(name="core.tasks.purge_outbox_task", ignore_result=True)
def purge_outbox_task() -> int:
    return outbox.purge(older_than=timedelta(days=settings.OUTBOX_KEEP_DAYS))


@shared_task(name="core.tasks.purge_idempotency_task", ignore_result=True)
def purge_idempotency_task() -> int:
    from core.idempotency import purge_expired

    return purge_expired()


@outbox.outbox_task(name="core.tasks.worker_heartbeat_task", ignore_result=True)
def worker_heartbeat_task(source: str = "beat") -> int:
    heartbeat = WorkerHeartbeat.objects.create(source=source, hostname=socket.gethostname())
    return heartbeat.pk
