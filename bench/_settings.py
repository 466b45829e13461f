"""Settings for benchmark processes (the bench itself and the gunicorn it starts).

The project's settings, with three differences that keep a benchmark honest and harmless:
- DEBUG is off, so Django does not record every query in memory (as in production);
- the database is the dedicated benchmark database chosen by bench._util (DATABASE_URL);
- Celery messages go to a separate Redis database (BENCH_REDIS_DB, default 15), so a worker of
  `python3 -m scoms run` never receives tasks that name rows of the benchmark database.
"""

from __future__ import annotations

import os
import warnings
from urllib.parse import urlsplit, urlunsplit

from scoms.env import redis_url_for_broker
from scoms.settings import *  # noqa: F403
from scoms.settings import CACHES, REDIS_CLIENT_URL, REDIS_URL, STORAGES, TEMPLATES

DEBUG = False
# WhiteNoise warns once per process that collectstatic has not run; benchmarks need no static files.
warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
# Plain HTTP to localhost, and no collectstatic needed for rendering pages.
SECURE_SSL_REDIRECT = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
for _template in TEMPLATES:
    _template.setdefault("OPTIONS", {})["debug"] = False

_BENCH_REDIS_DB = os.environ.get("BENCH_REDIS_DB", "15")


def _with_redis_db(url: str, *, for_broker: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("unix", "redis+socket"):
        # redis-py reads ?db=N on a socket URL, kombu reads ?virtual_host=N.
        query = f"virtual_host={_BENCH_REDIS_DB}" if for_broker else f"db={_BENCH_REDIS_DB}"
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return urlunsplit((parts.scheme, parts.netloc, f"/{_BENCH_REDIS_DB}", parts.query, ""))


CELERY_BROKER_URL = _with_redis_db(redis_url_for_broker(REDIS_URL), for_broker=True)
CACHES = {**CACHES, "default": {**CACHES["default"], "LOCATION": _with_redis_db(REDIS_CLIENT_URL, for_broker=False)}}
