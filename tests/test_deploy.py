"""Production settings: `check --deploy` is clean, static files collect, security headers are set.

Everything runs in child processes with DEBUG=0, the way gunicorn and docker-compose run SCOMS.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, child_env, free_port, run_manage, run_python, wait_until

PRODUCTION_HOST = "scoms.example.com"

RESPONSES_UNDER_PRODUCTION_SETTINGS = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="scoms.example.com")
https_page = client.get("/accounts/login/", secure=True)
http_page = client.get("/accounts/login/")
http_health = client.get("/healthz")
print(json.dumps({
    "https": {"status": https_page.status_code, "headers": dict(https_page.headers),
              "body": https_page.content.decode()},
    "http": {"status": http_page.status_code, "location": http_page.headers.get("Location")},
    "health": {"status": http_health.status_code},
}))
"""


def production_env(**extra: str) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60)[:60],
        "ALLOWED_HOSTS": PRODUCTION_HOST,
        **extra,
    }


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`manage.py collectstatic --noinput` under production settings, as the web container runs it."""
    static_root = tmp_path_factory.mktemp("staticfiles")
    result = run_manage("collectstatic", "--noinput", **production_env(STATIC_ROOT=str(static_root)))
    assert result.returncode == 0, result.stderr
    return static_root


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_flags_a_short_secret_key():
    # Proves the check above really runs the deploy checks rather than passing vacuously.
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env(SECRET_KEY="short"))

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_collectstatic_writes_a_manifest_and_compressed_hashed_files(collected_static):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())
    hashed_css = manifest["paths"]["vendor/bootstrap-5.3.9/bootstrap.min.css"]

    assert re.fullmatch(r"vendor/bootstrap-5\.3\.9/bootstrap\.min\.[0-9a-f]{12}\.css", hashed_css)
    assert (collected_static / hashed_css).is_file()
    assert (collected_static / f"{hashed_css}.gz").is_file()
    assert (collected_static / f"{hashed_css}.br").is_file()
    assert "admin/css/base.css" in manifest["paths"]


@pytest.fixture(scope="module")
def production_responses(collected_static, test_database_url) -> dict:
    result = run_python(
        RESPONSES_UNDER_PRODUCTION_SETTINGS,
        **production_env(STATIC_ROOT=str(collected_static), DATABASE_URL=test_database_url),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_pages_send_the_security_headers(production_responses):
    https = production_responses["https"]
    headers = {name.lower(): value for name, value in https["headers"].items()}

    assert https["status"] == 200
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"


def test_production_content_security_policy_forbids_inline_and_foreign_code(production_responses):
    headers = {name.lower(): value for name, value in production_responses["https"]["headers"].items()}
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in headers["content-security-policy"].split(";")
        if directive.strip()
    }

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_production_pages_use_hashed_static_files_and_secure_cookies(production_responses):
    https = production_responses["https"]
    cookie_header = {name.lower(): value for name, value in https["headers"].items()}.get("set-cookie", "")

    assert re.search(r'href="/static/vendor/bootstrap-5\.3\.9/bootstrap\.min\.[0-9a-f]{12}\.css"', https["body"])
    assert "style=" not in https["body"]  # no inline styles: the CSP would block them
    assert "<script>" not in https["body"]  # no inline scripts either
    if cookie_header:
        assert "Secure" in cookie_header


def test_production_redirects_plain_http_to_https_except_healthz(production_responses):
    assert production_responses["http"]["status"] == 301
    assert production_responses["http"]["location"] == f"https://{PRODUCTION_HOST}/accounts/login/"
    assert production_responses["health"]["status"] == 200


def test_debug_pages_also_send_the_browser_security_headers(client, db):
    response = client.get("/accounts/login/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]


# --- docker-compose.yml and Dockerfile: Docker cannot run here, so read them and run their commands
def compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_16_redis_7_web_worker_and_beat_with_healthchecks():
    services = compose()["services"]

    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "pgdata" in compose()["volumes"]
    for name in ("db", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_compose_web_migrates_and_collects_static_before_gunicorn():
    web_command = " ".join(compose()["services"]["web"]["command"])

    migrate = web_command.index("manage.py migrate --noinput")
    collect = web_command.index("manage.py collectstatic --noinput")
    gunicorn = web_command.index("exec gunicorn scoms.wsgi")
    assert migrate < collect < gunicorn


def test_compose_passes_production_settings_that_settings_py_reads():
    services = compose()["services"]
    settings_source = (ROOT / "scoms" / "settings.py").read_text()

    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DEBUG"] == "0"
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"} <= set(environment)
        assert environment["DATABASE_URL"].startswith("postgres://")
        for variable in environment:
            assert f'"{variable}"' in settings_source, f"settings.py never reads {variable}"


def test_compose_worker_and_beat_run_the_project_celery_app():
    services = compose()["services"]

    assert services["worker"]["command"][:4] == ["celery", "-A", "scoms", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "scoms", "beat"]


def test_dockerfile_builds_from_python_311_slim_with_pango_and_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "\nFROM python:3.11-slim\n" in dockerfile
    assert "libpango-1.0-0" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert dockerfile.index("COPY requirements.txt") < dockerfile.index("COPY . .")  # layer caching
    assert ".venv" in (ROOT / ".dockerignore").read_text().split()


@pytest.fixture(scope="module")
def gunicorn_web(collected_static, test_database_url) -> Iterator[str]:
    """The compose web command's gunicorn, under production settings, on a free local port."""
    port = free_port()
    env = child_env(
        **production_env(
            STATIC_ROOT=str(collected_static),
            DATABASE_URL=test_database_url,
            ALLOWED_HOSTS=f"localhost,127.0.0.1,{PRODUCTION_HOST}",
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "scoms.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--timeout", "60"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(answers, timeout=30)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_compose_web_healthcheck_passes_against_gunicorn(gunicorn_web):
    healthcheck = compose()["services"]["web"]["healthcheck"]["test"]
    script = healthcheck[healthcheck.index("-c") + 1].replace("127.0.0.1:8000", gunicorn_web)

    result = run_python(script)

    assert result.returncode == 0, result.stderr


def test_gunicorn_serves_hashed_static_files_compressed_and_cacheable(gunicorn_web, collected_static):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())
    connection = http.client.HTTPConnection(gunicorn_web, timeout=10)

    connection.request(
        "GET", f"/static/{manifest['paths']['css/app.css']}",
        # as forwarded by the TLS-terminating proxy in front of gunicorn
        headers={"Host": "localhost", "X-Forwarded-Proto": "https", "Accept-Encoding": "br, gzip"},
    )
    response = connection.getresponse()

    assert response.status == 200
    assert response.headers["Content-Encoding"] == "br"
    assert "immutable" in response.headers["Cache-Control"]
    connection.close()
