"""Reads for the dashboard. Domain apps add their own tiles through core.hooks.DASHBOARD_TILES."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from core.hooks import DASHBOARD_TILES
from core.models import OutboxMessage, WorkerHeartbeat
from core.permissions import can_open


def dashboard_summary(*, user: Any) -> dict[str, Any]:
    tiles: list[dict[str, Any]] = []
    for filler in DASHBOARD_TILES.fillers():
        if can_open(user, filler.options["section"]):
            tiles.extend(filler.function(user))
    last_beat = WorkerHeartbeat.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    pending = OutboxMessage.objects.filter(
        processed_at__isnull=True, created_at__lt=timezone.now() - timedelta(minutes=1)
    ).count()
    return {"tiles": tiles, "last_worker_heartbeat": last_beat, "outbox_pending": pending}
