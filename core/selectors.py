"""Reads for the dashboard. Domain apps plug their own tiles in through DASHBOARD_TILES."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from core.models import OutboxMessage, WorkerHeartbeat
from core.permissions import can_open

# (section, callable(user) -> list of {"label", "value", "url"}) registered by domain apps.
DASHBOARD_TILES: list[tuple[str, Callable[[Any], list[dict[str, Any]]]]] = []


def register_dashboard_tiles(section: str, provider: Callable[[Any], list[dict[str, Any]]]) -> None:
    DASHBOARD_TILES.append((section, provider))


def dashboard_summary(*, user: Any) -> dict[str, Any]:
    tiles: list[dict[str, Any]] = []
    for section, provider in DASHBOARD_TILES:
        if can_open(user, section):
            tiles.extend(provider(user))
    last_beat = WorkerHeartbeat.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    pending = OutboxMessage.objects.filter(
        processed_at__isnull=True, created_at__lt=timezone.now() - timedelta(minutes=1)
    ).count()
    return {"tiles": tiles, "last_worker_heartbeat": last_beat, "outbox_pending": pending}
