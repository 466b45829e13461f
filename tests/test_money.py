"""core.money and ExchangeRate: the rate in force on a day, the base currency, the constraints."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core import money
from core.models import ExchangeRate

pytestmark = pytest.mark.django_db


def test_the_rate_in_force_on_a_day_is_the_latest_one_from_before_it(settings):
    settings.BASE_CURRENCY = "CNY"
    ExchangeRate.objects.create(currency="USD", rate=Decimal("7.10"), valid_from=date(2026, 1, 1))
    ExchangeRate.objects.create(currency="USD", rate=Decimal("7.25"), valid_from=date(2026, 6, 1))
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("7.90"), valid_from=date(2026, 3, 1))

    assert money.rates_to_base(["usd", "EUR", "CNY", "GBP"], on=date(2026, 5, 31)) == {
        "USD": Decimal("7.10"), "EUR": Decimal("7.90"), "CNY": Decimal("1"),
    }
    assert money.rates_to_base(["USD", "EUR"], on=date(2026, 2, 1)) == {"USD": Decimal("7.10")}
    assert money.rates_to_base(["USD"], on=date(2026, 6, 1)) == {"USD": Decimal("7.25")}


@pytest.mark.parametrize(("currency", "rate"), [("usd", "7"), ("US", "7"), ("USD", "0"), ("USD", "-1")])
def test_rates_must_be_positive_and_for_an_iso_code(currency, rate):
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(currency=currency, rate=Decimal(rate), valid_from=date(2026, 1, 1))


@pytest.mark.parametrize("currency", ["usd", "XYZ"])
def test_the_admin_form_names_a_bad_currency_or_rate_and_saves_nothing(admin_client, currency):
    response = admin_client.post(
        "/admin/core/exchangerate/add/", {"currency": currency, "rate": "0", "valid_from": "2026-01-01"}
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "not an ISO 4217 currency code" in str(errors["currency"])
    assert "above zero" in str(errors["rate"])
    assert not ExchangeRate.objects.exists()
