"""Rendered documents (PDFs) cached by content hash, rendered only in Celery workers.

A web request never renders: it computes the key of the document it wants (the SHA-256 of the
HTML the PDF would be made from — cheap next to the PDF itself) and either serves the cached
bytes or asks for them (`request_document`: one pending row per key plus an outbox message in
the same transaction) and answers "being prepared". The worker's task renders and stores
(`store_document`); the next request serves it. Anything that changes what is printed changes
the key, so a stale document is never served. A task that never stored its document (it
failed for good) is asked for again once RENDER_RETRY_AFTER has passed.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from celery.app.task import Task
from django.db import transaction
from django.utils import timezone

from core import outbox
from core.models import Document

PDF = "application/pdf"
RENDER_RETRY_AFTER = timedelta(minutes=5)


def document_key(*, source: str, content_type: str = PDF) -> str:
    """The cache key of the document rendered from `source` (e.g. its HTML)."""
    digest = hashlib.sha256(content_type.encode())
    digest.update(b"\0")
    digest.update(source.encode())
    return digest.hexdigest()


def ready_document(*, key: str) -> bytes | None:
    """The rendered bytes under `key`, or None while there are none."""
    content = Document.objects.filter(key=key, content__isnull=False).values_list("content", flat=True).first()
    return None if content is None else bytes(content)


def request_document(*, key: str, task: Task, kwargs: dict[str, Any]) -> bytes | None:
    """The rendered bytes under `key`; else make sure a worker renders them and return None.

    The pending row is the claim: concurrent requests for one key enqueue one task (the
    second waits on the first's row lock, then finds it pending).
    """
    content = ready_document(key=key)
    if content is not None:
        return content
    with transaction.atomic():
        document, created = Document.objects.select_for_update().get_or_create(key=key)
        if document.content is not None:  # stored between our two looks
            return bytes(document.content)
        now = timezone.now()
        if not created:
            if document.requested_at > now - RENDER_RETRY_AFTER:
                return None
            document.requested_at = now
            document.save(update_fields=["requested_at"])
        outbox.enqueue(task, kwargs=kwargs)
    return None


def store_document(*, key: str, content: bytes, content_type: str = PDF) -> None:
    """Keep rendered bytes under `key` (in a worker; a pending request is then served)."""
    Document.objects.update_or_create(
        key=key, defaults={"content": content, "content_type": content_type, "rendered_at": timezone.now()}
    )
