"""Settings come from the environment, typed, and refuse unsafe or unsupported values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from scoms.env import env_bool, env_int, env_list, env_str, redis_url_for_broker, redis_url_for_client
from tests.conftest import run_python

IMPORT_SETTINGS = "import scoms.settings as s; print('DEBUG', s.DEBUG)"


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " 1 "])
def test_env_bool_reads_true_spellings(monkeypatch, raw):
    monkeypatch.setenv("SCOMS_FLAG", raw)

    assert env_bool("SCOMS_FLAG", default=False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_env_bool_reads_false_spellings(monkeypatch, raw):
    monkeypatch.setenv("SCOMS_FLAG", raw)

    assert env_bool("SCOMS_FLAG", default=True) is False


def test_env_bool_uses_default_when_unset(monkeypatch):
    monkeypatch.delenv("SCOMS_FLAG", raising=False)

    assert env_bool("SCOMS_FLAG", default=True) is True


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_env_bool_rejects_other_values(monkeypatch, raw):
    monkeypatch.setenv("SCOMS_FLAG", raw)

    with pytest.raises(ImproperlyConfigured, match="SCOMS_FLAG must be a boolean"):
        env_bool("SCOMS_FLAG")


def test_env_int_parses_integers_and_defaults_on_blank(monkeypatch):
    monkeypatch.setenv("SCOMS_NUMBER", "42")
    assert env_int("SCOMS_NUMBER", 7) == 42

    monkeypatch.setenv("SCOMS_NUMBER", "  ")
    assert env_int("SCOMS_NUMBER", 7) == 7

    monkeypatch.delenv("SCOMS_NUMBER")
    assert env_int("SCOMS_NUMBER", 7) == 7


@pytest.mark.parametrize("raw", ["ten", "1.5", "0x10"])
def test_env_int_rejects_non_integers(monkeypatch, raw):
    monkeypatch.setenv("SCOMS_NUMBER", raw)

    with pytest.raises(ImproperlyConfigured, match="SCOMS_NUMBER must be an integer"):
        env_int("SCOMS_NUMBER", 0)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("SCOMS_HOSTS", " a.example.com, ,b.example.com,")

    assert env_list("SCOMS_HOSTS", []) == ["a.example.com", "b.example.com"]


def test_env_list_uses_default_when_unset(monkeypatch):
    monkeypatch.delenv("SCOMS_HOSTS", raising=False)

    assert env_list("SCOMS_HOSTS", ["localhost"]) == ["localhost"]


def test_env_str_without_default_requires_the_variable(monkeypatch):
    monkeypatch.delenv("SCOMS_REQUIRED", raising=False)

    with pytest.raises(ImproperlyConfigured, match="Set the SCOMS_REQUIRED"):
        env_str("SCOMS_REQUIRED")


def test_redis_unix_socket_urls_are_translated_between_redis_py_and_kombu():
    assert redis_url_for_broker("unix:///var/run/redis.sock") == "redis+socket:///var/run/redis.sock"
    assert redis_url_for_client("redis+socket:///var/run/redis.sock") == "unix:///var/run/redis.sock"
    assert redis_url_for_broker("redis://h:6379/0") == "redis://h:6379/0"


def test_settings_refuse_a_non_postgresql_database_url():
    result = run_python(IMPORT_SETTINGS, DEBUG="1", DATABASE_URL="sqlite:///scoms.sqlite3")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


def test_settings_refuse_a_base_currency_that_is_no_currency_code():
    result = run_python(IMPORT_SETTINGS, DEBUG="1", BASE_CURRENCY="yuan")

    assert result.returncode != 0
    assert "BASE_CURRENCY must be a three-letter ISO 4217 code" in result.stderr


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off():
    result = run_python(IMPORT_SETTINGS, DEBUG="0", SECRET_KEY=None, ALLOWED_HOSTS="scoms.example.com")

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_settings_refuse_a_malformed_debug_flag():
    result = run_python(IMPORT_SETTINGS, DEBUG="sometimes")

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_settings_read_database_time_zone_and_hosts_from_the_environment():
    code = (
        "import scoms.settings as s; "
        "d = s.DATABASES['default']; "
        "print(d['HOST'], d['PORT'], d['NAME'], s.TIME_ZONE, s.ALLOWED_HOSTS, s.DEBUG)"
    )

    result = run_python(
        code,
        DEBUG="0",
        SECRET_KEY="x" * 60,
        DATABASE_URL="postgres://scoms:pw@db.internal:6543/orders",
        TIME_ZONE="Europe/Berlin",
        ALLOWED_HOSTS="scoms.example.com,api.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "db.internal", "6543", "orders", "Europe/Berlin",
        "['scoms.example.com',", "'api.example.com']", "False",
    ]


def test_time_zone_defaults_to_shanghai():
    result = run_python("import scoms.settings as s; print(s.TIME_ZONE, s.USE_TZ)", DEBUG="1", TIME_ZONE=None)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Asia/Shanghai", "True"]
