"""factory_boy factories for platform objects (users and their role groups)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.demo import DEMO_PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    """A portal user; `UserFactory(roles=["Warehouse"])` puts it in those role groups.

    The groups themselves come from migrations (core.0002) and core.roles.sync_roles.
    """

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda number: f"user{number}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(DEMO_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: Iterable[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=name) for name in extracted])
