"""Transactional outbox: enqueue Celery work inside a transaction without losing it.

`enqueue(...)` writes an OutboxMessage in the caller's transaction — nothing more: the request
never talks to the broker. The relay publishes: every Celery worker runs a relay thread
(scoms.celery.OutboxRelay) that calls `drain()` in a loop, and the `drain-outbox` beat job and
`python3 -m scoms manage drain_outbox` call it too. `drain()` claims a batch in one short transaction
(`FOR UPDATE SKIP LOCKED`, so several relays never double-send), commits, and only then talks to
the broker — no row lock is held across a network call. A message claimed but never processed
(the relay died after its claim, the broker lost it) is published again after REPUBLISH_AFTER.
Tasks declared with `outbox_task` claim their message row in their own transaction, so their
database effects happen exactly once even when a message is delivered twice. If the database
goes away under such a task (or a deadlock/timeout ends its transaction), the task is retried
with backoff; after the last retry the message stays unprocessed and `drain` republishes it
later.

Tasks are named by reference: `enqueue(order_placed_task, kwargs=…)` takes the task object and
stores its registered name (the relay publishes by name), so an import shows who enqueues what.
Import rule (HackSoft's answer to the services ↔ tasks cycle): a `tasks` module imports its
services *inside* the task functions; services, handlers and anything else that enqueues import
the tasks module at the top.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from celery import current_app, shared_task
from celery.app.task import Task
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import Case, F, When
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
# The relay loop: how long it sleeps when there was nothing to send, and after a failure.
RELAY_IDLE_SECONDS = 0.2
RELAY_BACKOFF_SECONDS = 2.0


def enqueue(
    task: Task,
    *,
    args: Iterable[Any] = (),
    kwargs: dict[str, Any] | None = None,
    countdown: int = 0,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Record `task` (a task object, normally an `outbox_task`) in the current transaction; the
    relay publishes it after commit.

    With `dedupe_key`, a second enqueue of the same key returns the existing message.
    """
    message = new_message(task, args=args, kwargs=kwargs, countdown=countdown)
    if dedupe_key is None:
        message.save(force_insert=True)
        return message
    existing, _created = OutboxMessage.objects.get_or_create(dedupe_key=dedupe_key, defaults={
        "task_name": message.task_name, "args": message.args, "kwargs": message.kwargs,
        "available_at": message.available_at,
    })
    return existing


def new_message(
    task: Task, *, args: Iterable[Any] = (), kwargs: dict[str, Any] | None = None, countdown: int = 0
) -> OutboxMessage:
    """An unsaved message, as `enqueue` writes it (for a caller that inserts it with its own
    rows in one statement: orders.intake)."""
    return OutboxMessage(
        task_name=_published_name(task),
        args=list(args),
        kwargs=kwargs or {},
        available_at=timezone.now() + timedelta(seconds=countdown),
    )


def _published_name(task: Task) -> str:
    """The name the relay publishes `task` under; a string is refused (tasks go by reference)."""
    if isinstance(task, str):
        raise TypeError(f"pass the task object, not its name {task!r}")
    return task.name


_CLAIM_SQL = """
UPDATE core_outboxmessage AS m
   SET sent_at = now(), attempts = m.attempts + 1
  FROM (SELECT id FROM core_outboxmessage
         WHERE processed_at IS NULL AND attempts < %(max_attempts)s
           AND (sent_at IS NULL OR sent_at < now() - %(republish_after)s)
           AND available_at <= now() + interval '1 hour'
         ORDER BY id
         LIMIT %(batch_size)s
           FOR UPDATE SKIP LOCKED) AS claimed
 WHERE m.id = claimed.id
RETURNING m.id, m.task_name, m.args, m.kwargs, m.available_at
"""


def drain(*, batch_size: int = 500, app: Any = None) -> int:
    """Publish up to `batch_size` pending messages; returns how many the broker took (_drain)."""
    return _drain(batch_size=batch_size, app=app)[0]


def _drain(*, batch_size: int, app: Any) -> tuple[int, bool]:
    """Publish up to `batch_size` pending messages (never sent, or sent long ago and still
    unprocessed); returns how many the broker took, and whether it failed.

    The claim (sent_at, one more attempt) commits before the first send. If the broker fails,
    the messages not yet sent are handed back (sent_at cleared, the error recorded) for the
    next drain; if this process dies in between, REPUBLISH_AFTER brings them back.
    """
    app = app or current_app
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, {"max_attempts": MAX_ATTEMPTS, "republish_after": REPUBLISH_AFTER,
                                    "batch_size": batch_size})
        claimed = sorted(cursor.fetchall())
    if not claimed:
        return 0, False
    sent, sending, failed = 0, None, False
    try:
        with app.producer_pool.acquire(block=True) as producer:
            # One connection attempt, no retry loop: kombu would otherwise retry for
            # broker_connection_timeout seconds per message; the next drain retries.
            producer.connection.ensure_connection(max_retries=0)
            now = timezone.now()
            for message_id, task_name, args, kwargs, available_at in claimed:
                sending = message_id
                if isinstance(args, str):  # Django's psycopg setup hands jsonb to the ORM as text
                    args, kwargs = json.loads(args), json.loads(kwargs)
                countdown = max(0, int((available_at - now).total_seconds()))
                app.send_task(task_name, args=args, kwargs={**kwargs, "_outbox_id": message_id},
                              countdown=countdown or None, producer=producer, retry=False)
                sent += 1
    except Exception as exc:  # noqa: BLE001 — any broker failure leaves the rest pending
        failed = True
        error = f"{type(exc).__name__}: {exc}"[:2000]
        unsent = [message_id for message_id, *_rest in claimed[sent:]]
        # Only the message being sent when it failed used up an attempt (MAX_ATTEMPTS stops a
        # message the broker refuses, not a broker outage).
        OutboxMessage.objects.filter(pk__in=unsent, processed_at__isnull=True).update(
            sent_at=None, last_error=error,
            attempts=Case(When(pk=sending, then=F("attempts")), default=F("attempts") - 1),
        )
        logger.warning("outbox: could not publish %d message(s) (%s); will retry", len(unsent), exc)
    if sent:
        OutboxMessage.objects.filter(pk__in=[row[0] for row in claimed[:sent]]).exclude(last_error="").update(
            last_error=""
        )
    return sent, failed


def relay(stop: threading.Event, *, app: Any = None, batch_size: int = 500) -> None:
    """Drain until `stop` is set: at once while there is more, every RELAY_IDLE_SECONDS when
    idle, every RELAY_BACKOFF_SECONDS while the database or the broker is down."""
    while not stop.is_set():
        try:
            close_old_connections()
            sent, failed = _drain(batch_size=batch_size, app=app)
        except (OperationalError, InterfaceError) as exc:
            logger.warning("outbox relay: database unavailable (%s)", exc)
            connection.close()
            stop.wait(RELAY_BACKOFF_SECONDS)
            continue
        except Exception:  # the relay thread must outlive any single failure
            logger.exception("outbox relay: drain failed")
            stop.wait(RELAY_BACKOFF_SECONDS)
            continue
        if failed:
            stop.wait(RELAY_BACKOFF_SECONDS)
        elif sent < batch_size:
            stop.wait(RELAY_IDLE_SECONDS)
    connection.close()


def mark_processed(outbox_id: int) -> None:
    """For a task that is run once by other means than the outbox claim (its own lock or key):
    its message is done, so `drain` does not publish it again."""
    OutboxMessage.objects.filter(pk=outbox_id, processed_at__isnull=True).update(processed_at=timezone.now())


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
