"""The Celery application. Settings live in scoms/settings.py under the CELERY_ prefix."""

import os
import threading
from typing import Any

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scoms.settings")

app = Celery("scoms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class OutboxRelay(bootsteps.StartStopStep):
    """Every worker publishes the transactional outbox (core.outbox.relay) from a thread of its
    main process: requests only write outbox rows, and the relay turns them into Celery
    messages in batches. Several workers relay side by side (SKIP LOCKED claims).
    OUTBOX_RELAY=0 turns it off for a worker (the beat job `drain-outbox` still drains)."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def include_if(self, worker: Any) -> bool:
        return os.environ.get("OUTBOX_RELAY", "1").lower() not in {"0", "false", "no", "off"}

    def start(self, worker: Any) -> None:
        from core import outbox

        self.stop_event.clear()
        self.thread = threading.Thread(
            target=outbox.relay, args=(self.stop_event,), kwargs={"app": worker.app}, name="outbox-relay",
            daemon=True,
        )
        self.thread.start()

    def stop(self, worker: Any) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
            self.thread = None


app.steps["worker"].add(OutboxRelay)
