"""Reuse the cross-app worker fixtures (a private Redis and a real Celery worker process)."""

from tests.conftest import (  # noqa: F401 — fixtures, found by name
    celery_worker_process,
    private_celery_app,
    private_redis,
    test_database_url,
)
