"""Fixtures shared by every test package (app tests and tests/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from django.contrib.auth.models import Group

from core.hooks import isolated


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 with Django's production work factor costs ~0.2 s per hash; the lockout tests
    # authenticate a dozen times. Hashing strength is not what these tests are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db, django_user_model):
    """make_user("Operations") → a user in that role group; make_user(superuser=True) → admin."""
    counter = {"n": 0}

    def make(role: str | None = None, *, username: str | None = None, superuser: bool = False, password: str = "pw-Test-12345"):  # noqa: S107
        from core.roles import sync_roles

        sync_roles()
        counter["n"] += 1
        name = username or f"{(role or 'admin').lower()}{counter['n']}"
        if superuser:
            user = django_user_model.objects.create_superuser(username=name, email=f"{name}@example.com", password=password)
        else:
            user = django_user_model.objects.create_user(username=name, email=f"{name}@example.com", password=password)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def api_client(make_user):
    """api_client("Operations") → an APIClient authenticated with a DRF token of a new user in
    that role (or of `user=`); the user is at `client.user`."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(role: str | None = None, *, user=None) -> APIClient:
        user = user or make_user(role)
        token, _created = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        client.user = user
        return client

    return make


@pytest.fixture
def only_fillers() -> Iterator[Callable[..., Any]]:
    """only_fillers(point, *functions): for this test, a hook point (core.hooks) filled by just
    these functions (none: by nothing); the installed apps' fillers come back afterwards."""
    with ExitStack() as stack:
        yield lambda point, *functions: stack.enter_context(isolated(point, *functions))
