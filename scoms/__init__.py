"""The SCOMS project package: settings, URLs, the Celery app, WSGI/ASGI, and the launcher
(`python3 -m scoms run|test|manage|bench|worker|beat`, in __main__.py).

The Celery app is loaded with the project so that `shared_task`s and the outbox publish through
it. `python3 -m scoms` imports this package under a bare Python before .venv exists, where
Celery is not installed yet: the launcher needs only the standard library until it has re-executed
itself inside .venv.
"""

try:
    from .celery import app as celery_app
except ModuleNotFoundError as exc:  # only a missing Celery itself, never an error inside celery.py
    if exc.name != "celery":
        raise
    celery_app = None

__all__ = ("celery_app",)
