"""`seed_demo` creates admin/admin: only in DEBUG, or when forced — never by accident in production."""

from __future__ import annotations

import secrets

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import run_manage

pytestmark = pytest.mark.django_db(transaction=True)


def production_env(database_url: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(60)[:60]}


def test_seed_demo_refuses_demo_users_when_debug_is_off(test_database_url):
    # when seed_demo runs under production settings without --force
    result = run_manage("seed_demo", **production_env(test_database_url))
    # then it exits 1, says why and what to do instead, and created nobody
    assert result.returncode == 1
    assert "DEBUG is off" in result.stderr
    assert "--force" in result.stderr
    assert "createsuperuser" in result.stderr
    assert not get_user_model().objects.filter(username="admin").exists()


def test_seed_demo_with_force_seeds_even_when_debug_is_off(test_database_url):
    # when seed_demo runs under production settings with --force
    result = run_manage("seed_demo", "--force", timeout=300, **production_env(test_database_url))
    # then the demo users exist
    assert result.returncode == 0, result.stderr
    assert "demo login: admin / admin" in result.stdout
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()

