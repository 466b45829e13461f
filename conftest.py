"""Fixtures shared by every test package (app tests and tests/)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group


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
