"""Validators shared by model fields, portal forms, the admin and the API serializers.

Currency and country codes are checked against the ISO 4217 and ISO 3166-1 lists that
`pycountry` ships (kept up to date with the standards by its maintainers) rather than against
a shape such as "three letters": XYZ has three letters and is no currency.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pycountry
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.exceptions import ValidationFailed
from core.limits import EARLIEST_DATE, MAX_YEARS_AHEAD, date_window

CURRENCY_CODES: tuple[str, ...] = tuple(sorted(currency.alpha_3 for currency in pycountry.currencies))
COUNTRY_CODES: tuple[str, ...] = tuple(sorted(country.alpha_2 for country in pycountry.countries))
_CURRENCIES = frozenset(CURRENCY_CODES)
_COUNTRIES = frozenset(COUNTRY_CODES)


def validate_currency_code(value: str) -> None:
    if value not in _CURRENCIES:
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code (three capital letters such as CNY or USD)."),
            code="invalid_currency", params={"value": value},
        )


def validate_country_code(value: str) -> None:
    if value not in _COUNTRIES:
        raise ValidationError(
            _("%(value)s is not an ISO 3166-1 country code (two capital letters such as CN or DE)."),
            code="invalid_country", params={"value": value},
        )


PLANNED_DATE_HELP = format_lazy(
    _("From {earliest} to {years} years after today."), earliest=EARLIEST_DATE.isoformat(), years=MAX_YEARS_AHEAD
)


def validate_planned_date(value: date) -> None:
    """A requested, expected or confirmed delivery date: inside core.limits.date_window()."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(_("Enter a valid date."), code="invalid")
    earliest, latest = date_window()
    if value < earliest or value > latest:
        raise ValidationError(
            _("Enter a date from %(earliest)s to %(latest)s."),
            code="date_out_of_range", params={"earliest": earliest.isoformat(), "latest": latest.isoformat()},
        )


def require(validator: Callable[[Any], None], value: Any, *, field: str) -> None:
    """Run one of these validators in a service: its message becomes a ValidationFailed naming `field`."""
    try:
        validator(value)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field=field) from exc
