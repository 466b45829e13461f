"""Checks of what services receive, shared by every app: a quantity, the acting user.

A quantity is a whole number (not a bool, not "2", not 1.5), not zero, positive unless the
caller allows a signed change, and at most `core.limits.MAX_QUANTITY` units either way.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed
from core.limits import MAX_QUANTITY


def check_quantity(quantity: Any, *, field: str = "quantity", allow_negative: bool = False) -> int:
    """The quantity, or ValidationFailed naming `field`; `allow_negative` for a signed change."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationFailed(_("Quantity must be a whole number."), field=field)
    if quantity == 0 or (quantity < 0 and not allow_negative):
        raise ValidationFailed(
            _("Quantity must not be zero.") if allow_negative else _("Quantity must be positive."),
            field=field,
        )
    if abs(quantity) > MAX_QUANTITY:
        raise ValidationFailed(_("Quantity is too large (at most %(max)s).") % {"max": MAX_QUANTITY}, field=field)
    return quantity


def user_or_none(user: Any) -> Any:
    """The user to record as actor: None for no user or an anonymous one (it has no primary key)."""
    return user if getattr(user, "pk", None) else None
