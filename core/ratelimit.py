"""Fixed-window rate limits counted in the shared cache (Redis, Django's cache API).

For the few endpoints where an attacker's volume is the harm (password reset e-mails). Every
web process counts in the same Redis, so the limit holds across gunicorn workers and hosts.
Identities are hashed into the key: no e-mail address is stored in Redis. django-ratelimit
does the same counting, but its 4.1 (the latest) warns on Django's own Redis backend (a system
check, which `check --deploy --fail-level WARNING` turns into a failure) and raises on a Redis
outage; here an outage limits nothing and is logged, so Redis being down never breaks a form.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.core.cache import cache
from redis import RedisError

logger = logging.getLogger(__name__)


def over_limit(*, scope: str, identity: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt by `identity`; True when it is past `limit` in the current window."""
    window = int(time.time()) // window_seconds
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{window}:{digest}"
    try:
        cache.add(key, 0, timeout=window_seconds + 60)
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: a new window began
        return False
    except (RedisError, OSError) as exc:
        logger.warning("rate limit %s not counted: cache unavailable (%s)", scope, exc)
        return False
    return count > limit
