"""Portal access checks: a section permission per area, model permissions per action."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

SECTIONS = ("orders", "inventory", "purchasing", "logistics", "analytics", "integrations")


def section_permission(section: str) -> str:
    if section not in SECTIONS:
        raise ValueError(f"unknown portal section {section!r}")
    return f"core.access_{section}"


def can_open(user: Any, section: str) -> bool:
    return user.is_authenticated and user.has_perm(section_permission(section))


def portal_view(section: str, *perms: str) -> Callable:
    """Decorator for function views: login, then the section permission, then `perms`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not can_open(request.user, section) or not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.portal_section = section  # type: ignore[attr-defined]
        return wrapped

    return decorator


class PortalMixin(LoginRequiredMixin):
    """Class-based views: set `section` and optionally `required_permissions`."""

    section: str = ""
    required_permissions: tuple[str, ...] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not can_open(request.user, self.section) or not request.user.has_perms(
            self.required_permissions
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
