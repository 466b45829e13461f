"""Stripe-like `Idempotency-Key` handling for state-changing API views.

A client that sends `Idempotency-Key: <key>` may retry a POST safely:

- the first response is stored and replayed byte for byte (same status, same body) for 24 h;
- the same key with another request (method, path or body) → 422;
- the same key while the first request is still running → 409 (retry a moment later);
- keys are scoped per authenticated user: two users may use the same key independently;
- a request that ends in an exception (validation error, out of stock, crash) stores nothing:
  its claim is removed so the client may retry with the same key.

Race safety: the key is claimed with one `INSERT … ON CONFLICT DO UPDATE … WHERE <expired>`
committed on its own before the view runs, so exactly one of many simultaneous requests wins
the claim (the unique constraint on user + key decides). The view then runs in one transaction
together with the UPDATE that stores its response: either both commit or neither does, so a
crash can never leave an order without its stored response. A claim whose request died
without cleaning up is taken over at once when the PostgreSQL session that made it is gone
(database restarted, web process killed), else after `IDEMPOTENCY_STALE_SECONDS`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.exceptions import Conflict, DomainError, ValidationFailed
from core.models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
DEFAULT_STALE_SECONDS = 300
_CLAIM_ATTEMPTS = 5


class IdempotencyKeyReused(DomainError):
    """The key was first used for a different request."""

    status = 422
    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    """The first request with this key has not finished yet."""

    code = "idempotency_in_progress"


@dataclass(frozen=True)
class _Claim:
    record_id: int
    # The claim's start time doubles as a fencing token: a request whose stale claim was taken
    # over by a retry can no longer store or delete anything.
    started_at: datetime


def request_fingerprint(request: Any) -> str:
    """sha256 of method, full path and the canonical JSON body (key order and spacing ignored)."""
    raw = request.body or b""
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = raw  # not JSON (or not JSON we take): compare the bytes; the view will reject it
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "IDEMPOTENCY_STALE_SECONDS", DEFAULT_STALE_SECONDS))


# Times come from the database clock, not this host's: several web hosts share the records.
# A claim in progress is taken over when it is stale, or at once when the database session that
# made it no longer exists (its pid and start time are not in pg_stat_activity): that request can
# no longer store anything, and its transaction was rolled back with the session.
_CLAIM_SQL = """
WITH me AS (SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
INSERT INTO {table} AS r (user_id, key, method, path, request_hash, state, created_at, owner_pid, owner_started)
SELECT %(user_id)s, %(key)s, %(method)s, %(path)s, %(hash)s, %(in_progress)s, clock_timestamp(),
       me.pid, me.backend_start
  FROM (SELECT 1) AS one LEFT JOIN me ON true
ON CONFLICT (user_id, key) DO UPDATE
   SET method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
       state = EXCLUDED.state, response_status = NULL, response_body = NULL,
       created_at = EXCLUDED.created_at, owner_pid = EXCLUDED.owner_pid, owner_started = EXCLUDED.owner_started
 WHERE r.created_at < clock_timestamp() - make_interval(secs => %(retention)s)
    OR (r.state = %(in_progress)s AND r.created_at < clock_timestamp() - make_interval(secs => %(stale)s))
    OR (r.state = %(in_progress)s AND r.owner_pid IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.owner_pid AND a.backend_start = r.owner_started))
RETURNING r.id, r.created_at
"""


def _try_claim(*, user_id: int, key: str, method: str, path: str, request_hash: str) -> _Claim | None:
    """Claim the key (committed at once, before the view runs); None if someone else holds it."""
    params = {
        "user_id": user_id, "key": key, "method": method[:10], "path": path[:255], "hash": request_hash,
        "in_progress": IdempotencyRecord.State.IN_PROGRESS,
        "retention": RETENTION.total_seconds(), "stale": _stale_after().total_seconds(),
    }
    # A single statement: in autocommit it is committed at once, before the view starts.
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL.format(table=connection.ops.quote_name(IdempotencyRecord._meta.db_table)), params)
        row = cursor.fetchone()
    return _Claim(record_id=row[0], started_at=row[1]) if row else None


def _mine(claim: _Claim) -> Any:
    return IdempotencyRecord.objects.filter(
        pk=claim.record_id, created_at=claim.started_at, state=IdempotencyRecord.State.IN_PROGRESS
    )


def _release(claim: _Claim) -> None:
    """Drop our claim after a failure so the client may retry with the same key."""
    try:
        _mine(claim).delete()
    except DatabaseError:
        # The database is unreachable: keep the original error; the claim goes stale and a
        # retry takes it over after IDEMPOTENCY_STALE_SECONDS.
        logger.warning("could not release idempotency claim %s", claim.record_id, exc_info=True)


def _render(response: Response) -> bytes:
    return JSONRenderer().render(response.data) if response.data is not None else b""


def _json_response(content: bytes, status: int, *, replayed: bool) -> HttpResponse:
    response = HttpResponse(content, status=status, content_type="application/json")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def run_idempotent(request: Any, handler: Callable[[], Any]) -> Any:
    """Run `handler` under the request's Idempotency-Key (or plainly when there is none)."""
    key = request.headers.get(HEADER)
    user = getattr(request, "user", None)
    if key is None or not getattr(user, "is_authenticated", False):
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        raise ValidationFailed(
            _("The Idempotency-Key header must be 1 to %(max)s printable ASCII characters.") % {"max": MAX_KEY_LENGTH},
            field=HEADER,
        )
    request_hash = request_fingerprint(request)
    for _attempt in range(_CLAIM_ATTEMPTS):
        claim = _try_claim(
            user_id=user.pk, key=key, method=request.method, path=request.get_full_path(), request_hash=request_hash
        )
        if claim is not None:
            return _execute(claim, handler)
        record = (
            IdempotencyRecord.objects.filter(user_id=user.pk, key=key)
            .only("request_hash", "state", "response_status", "response_body")
            .first()
        )
        if record is None:
            continue  # the holder failed and released the key a moment ago: claim it now
        if record.request_hash != request_hash:
            raise IdempotencyKeyReused(
                _("This Idempotency-Key was already used for a different request."), field=HEADER
            )
        if record.state == IdempotencyRecord.State.IN_PROGRESS:
            raise IdempotencyInProgress(
                _("A request with this Idempotency-Key is still being processed; retry shortly."), field=HEADER
            )
        return _json_response((record.response_body or "").encode(), record.response_status, replayed=True)
    raise IdempotencyInProgress(
        _("A request with this Idempotency-Key is still being processed; retry shortly."), field=HEADER
    )


def _execute(claim: _Claim, handler: Callable[[], Any]) -> Any:
    try:
        # The view's writes and the stored response commit together (the services' own atomic
        # blocks become savepoints): a crash in between cannot leave a result without a record.
        with transaction.atomic():
            response = handler()
            if not isinstance(response, Response) or response.status_code >= 500:
                _mine(claim).delete()
                return response
            content = _render(response)
            stored = _mine(claim).update(
                state=IdempotencyRecord.State.DONE,
                response_status=response.status_code,
                response_body=content.decode(),
            )
            if not stored:
                # Our claim went stale and a retry took it over; do not let both results stand.
                raise IdempotencyInProgress(
                    _("A request with this Idempotency-Key is still being processed; retry shortly."), field=HEADER
                )
    except BaseException:
        _release(claim)
        raise
    return _json_response(content, response.status_code, replayed=False)


def idempotent(view_method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a DRF view handler (`def create(self, request, …)`) to honour Idempotency-Key."""

    @functools.wraps(view_method)
    def wrapper(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        return run_idempotent(request, lambda: view_method(view, request, *args, **kwargs))

    wrapper.honours_idempotency_key = True  # type: ignore[attr-defined]  # read by is_idempotent
    return wrapper


def is_idempotent(view_method: Any) -> bool:
    """Whether a view handler honours Idempotency-Key (the OpenAPI schema documents the header)."""
    return bool(getattr(view_method, "honours_idempotency_key", False))


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete records older than the 24 h replay window (they are already treated as absent)."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _details = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
