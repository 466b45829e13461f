"""Money across currencies: amounts are Decimal; conversion to the base currency uses the
ExchangeRate in force on a day (the latest `valid_from` on or before it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from core.models import ExchangeRate

ONE = Decimal("1")


def base_currency() -> str:
    return settings.BASE_CURRENCY


def rates_to_base(currencies: Iterable[str], *, on: date | None = None) -> dict[str, Decimal]:
    """{currency: units of the base currency per unit} for those with a rate in force on `on`
    (today by default) — one query. The base currency is 1; currencies without a rate are absent."""
    wanted = {str(code).upper() for code in currencies}
    base = base_currency()
    result = {base: ONE} if base in wanted else {}
    others = wanted - {base}
    if others:
        day = on or timezone.localdate()
        latest = (
            ExchangeRate.objects.filter(currency__in=others, valid_from__lte=day)
            .order_by("currency", "-valid_from")
            .distinct("currency")
            .values_list("currency", "rate")
        )
        result.update(latest)
    return result
