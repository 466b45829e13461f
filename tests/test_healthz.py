"""/healthz reports database and broker health: 200 when both answer, 503 otherwise."""

from __future__ import annotations

import json

from tests.conftest import free_port, run_python

HEALTHZ_WITHOUT_DATABASE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_healthz_is_ok_when_database_and_broker_answer(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_login(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200  # not a redirect to the login page


def test_healthz_is_503_when_redis_is_unreachable(client, db, settings):
    settings.REDIS_CLIENT_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["broker"]["ok"] is False
    assert body["broker"]["error"]
    assert body["database"]["ok"] is True


def test_healthz_is_503_when_the_database_is_unreachable():
    closed_port = free_port()

    result = run_python(
        HEALTHZ_WITHOUT_DATABASE,
        DEBUG="1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port}/scoms",
    )

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["status"] == "error"
    assert answer["body"]["database"] == {"ok": False, "error": "OperationalError"}
    assert answer["body"]["broker"]["ok"] is True


def test_healthz_rejects_post(client, db):
    response = client.post("/healthz")

    assert response.status_code == 405
