"""Bounds on what a log-in attempt may carry, for the portal's and the admin's login forms and
for django-axes, which records every failed attempt.

Django's AuthenticationForm only *displays* the user model's username length (150) as the
input's maxlength; it still passes a longer name to authenticate(), and axes then writes it into
its varchar(255) username column — a 500 for a 256-character name. Here the forms refuse an
over-long name as a form error (nothing is authenticated or recorded), and `axes_username`
bounds what axes records for any other caller of authenticate().
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest


class BoundedUsernameMixin:
    """Validate the username's length (AuthenticationForm sets max_length without a validator)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]  # type: ignore[attr-defined]
        username.validators.append(MaxLengthValidator(username.max_length))


class LoginForm(BoundedUsernameMixin, AuthenticationForm):
    """The portal's login form (/accounts/login/)."""


class AdminLoginForm(BoundedUsernameMixin, AdminAuthenticationForm):
    """The admin's login form (admin.site.login_form)."""


_AXES_USERNAME_LENGTH = AccessAttempt._meta.get_field("username").max_length


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """settings.AXES_USERNAME_CALLABLE: the username axes records, cut to fit its column."""
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials or getattr(request, "data", request.POST)
    username = source.get(field)
    if not isinstance(username, str):
        return username
    return username[:_AXES_USERNAME_LENGTH]
