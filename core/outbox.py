"""Transactional outbox: enqueue Celery work inside a transaction without losing it.

`enqueue(...)` writes an OutboxMessage in the caller's transaction and publishes it after commit.
If the broker is unreachable the request still succeeds; `drain()` (a beat task every few
seconds, and `./scoms manage drain_outbox`) publishes what is pending, claiming rows with
`FOR UPDATE SKIP LOCKED` so several drainers never double-send. Tasks declared with
`outbox_task` claim their message row in their own transaction, so their database effects
happen exactly once even when a message is delivered twice. If the database goes away under
such a task (or a deadlock/timeout ends its transaction), the task is retried with backoff;
after the last retry the message stays unprocessed and `drain` republishes it later.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from celery import current_app, shared_task
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

# A message published but not processed after this long is published again (the broker may
# have lost it: Redis restarted without persistence, or a worker died before acking).
REPUBLISH_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 50
# A task whose database connection failed is retried after 1, 2, 4 … 60 s, this many times
# (about seven minutes in all); then REPUBLISH_AFTER and `drain` take over.
DATABASE_RETRIES = 10


def enqueue(
    task_name: str,
    *,
    args: Iterable[Any] = (),
    kwargs: dict[str, Any] | None = None,
    countdown: int = 0,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Record a task in the current transaction; publish it once the transaction commits.

    With `dedupe_key`, a second enqueue of the same key returns the existing message.
    """
    if dedupe_key is not None:
        fields = _claimed_fields(task_name, args=args, kwargs=kwargs, countdown=countdown)
        message, created = OutboxMessage.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)
        if not created:
            message_id = message.pk
            transaction.on_commit(lambda: publish([message_id]), robust=True)
            return message
    else:
        message = new_message(task_name, args=args, kwargs=kwargs, countdown=countdown)
        message.save(force_insert=True)
    publish_after_commit(message)
    return message


def new_message(
    task_name: str, *, args: Iterable[Any] = (), kwargs: dict[str, Any] | None = None, countdown: int = 0
) -> OutboxMessage:
    """An unsaved message as `enqueue` writes it, for a caller that inserts it with its own rows
    (orders.intake) and then calls `publish_after_commit`."""
    return OutboxMessage(**_claimed_fields(task_name, args=args, kwargs=kwargs, countdown=countdown))


def publish_after_commit(message: OutboxMessage) -> None:
    """Send a message written by `new_message` once its transaction commits (at once in autocommit)."""
    # robust: a publishing failure is logged, never raised into the request that already committed.
    transaction.on_commit(functools.partial(_publish_claimed, message), robust=True)


def _claimed_fields(
    task_name: str, *, args: Iterable[Any], kwargs: dict[str, Any] | None, countdown: int
) -> dict[str, Any]:
    # A new message is written already claimed by the after-commit publisher (sent_at set, one
    # attempt), so `drain` leaves it alone and the happy path needs no second transaction: one
    # broker send after commit. If that send fails the claim is undone for `drain`; if the
    # process dies between commit and send, `drain` republishes it after REPUBLISH_AFTER, like
    # any message the broker lost.
    now = timezone.now()
    return {
        "task_name": task_name,
        "args": list(args),
        "kwargs": kwargs or {},
        "available_at": now + timedelta(seconds=countdown),
        "sent_at": now,
        "attempts": 1,
    }


def _publish_claimed(message: OutboxMessage, *, app: Any = None) -> None:
    """Send a message that `enqueue` claimed; on failure hand it back to `drain`."""
    app = app or current_app
    try:
        with app.producer_pool.acquire(block=True) as producer:
            _send(message, app, producer)
    except Exception as exc:  # noqa: BLE001 — any broker failure leaves the message pending
        error = f"{type(exc).__name__}: {exc}"[:2000]
        OutboxMessage.objects.filter(pk=message.pk, processed_at__isnull=True).update(sent_at=None, last_error=error)
        logger.warning("outbox: could not publish %s (%s); will retry", message, exc)


def _send(message: OutboxMessage, app: Any, producer: Any) -> None:
    # One connection attempt, no retry loop: kombu would otherwise keep retrying for
    # broker_connection_timeout seconds per message, holding the request that just committed
    # that long for every task it enqueued while the broker is down. `drain` does the retrying.
    producer.connection.ensure_connection(max_retries=0)
    countdown = max(0, int((message.available_at - timezone.now()).total_seconds()))
    app.send_task(
        message.task_name,
        args=message.args,
        kwargs={**message.kwargs, "_outbox_id": message.pk},
        countdown=countdown or None,
        producer=producer,
        retry=False,
    )


def publish(message_ids: list[int], *, app: Any = None) -> int:
    """Try to hand these messages to the broker now; failures stay pending for `drain`."""
    app = app or current_app
    sent = 0
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=message_ids, sent_at__isnull=True, processed_at__isnull=True)
            .order_by("pk")
        )
        if not messages:
            return 0
        with app.producer_pool.acquire(block=True) as producer:
            for message in messages:
                if _publish_one(message, app, producer):
                    sent += 1
    return sent


def _publish_one(message: OutboxMessage, app: Any, producer: Any) -> bool:
    message.attempts += 1
    try:
        _send(message, app, producer)
    except Exception as exc:  # noqa: BLE001 — any broker failure leaves the message pending
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        message.save(update_fields=["attempts", "last_error"])
        logger.warning("outbox: could not publish %s (%s); will retry", message, exc)
        return False
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["attempts", "sent_at", "last_error"])
    return True


def drain(*, batch_size: int = 500, app: Any = None) -> int:
    """Publish pending messages (never sent, or sent long ago and still unprocessed)."""
    app = app or current_app
    now = timezone.now()
    sent = 0
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=now - REPUBLISH_AFTER))
            .filter(available_at__lte=now + timedelta(hours=1))
            .order_by("pk")[:batch_size]
        )
        if not messages:
            return 0
        with app.producer_pool.acquire(block=True) as producer:
            for message in messages:
                if _publish_one(message, app, producer):
                    sent += 1
                else:
                    break  # the broker is down: leave the rest for the next drain
    return sent


def purge(*, older_than: timedelta) -> int:
    deleted, _ = OutboxMessage.objects.filter(
        processed_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


def outbox_task(*task_args: Any, **task_options: Any) -> Callable:
    """Declare a Celery task that may be enqueued through the outbox.

    Called through the outbox (with `_outbox_id`), the body runs in a transaction that first
    claims the message row; a duplicate delivery waits for the one in progress, then finds the
    row processed and does nothing. It waits rather than skips the locked row: the lock may
    also be a `drain` or `publish` that has sent this very message and not yet committed, and
    skipping would drop the message until REPUBLISH_AFTER. A database error (connection lost,
    deadlock) rolls the claim back and retries the task with backoff.
    Called directly (`.delay()` or as a function) it just runs.
    """

    def decorator(func: Callable) -> Any:
        @functools.wraps(func)
        def run(*args: Any, _outbox_id: int | None = None, **kwargs: Any) -> Any:
            if _outbox_id is None:
                return func(*args, **kwargs)
            try:
                return _run_claimed(func, _outbox_id, args, kwargs)
            except (OperationalError, InterfaceError) as exc:
                retries = task.request.retries
                if retries >= DATABASE_RETRIES:
                    raise  # the message stays unprocessed: drain republishes it after REPUBLISH_AFTER
                logger.warning("outbox: message %s hit a database error (%s); retrying", _outbox_id, exc)
                raise task.retry(exc=exc, countdown=min(2**retries, 60), max_retries=DATABASE_RETRIES) from exc

        task = shared_task(**task_options)(run)
        return task

    if task_args and callable(task_args[0]):
        return decorator(task_args[0])
    return decorator


def _run_claimed(func: Callable, outbox_id: int, args: tuple, kwargs: dict[str, Any]) -> Any:
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=outbox_id, processed_at__isnull=True).first()
        if message is None:
            logger.info("outbox: message %s already processed", outbox_id)
            return None
        result = func(*args, **kwargs)
        message.processed_at = timezone.now()
        message.save(update_fields=["processed_at"])
        return result
