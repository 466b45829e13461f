"""The bounds of what enters the system: quantities, amounts, list lengths, texts, dates.

One place for every limit. Serializers (and through them the OpenAPI schema), portal forms,
the admin and the services all read them here, and every message that refuses a value names
the limit. Amount and counter limits come from the column the value ends in — a DecimalField's
digits, an integer column's range — so they cannot drift from the database; the business
limits (units per line, lines per order, length of notes, the date window) are stated below.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone

# Units in one stock movement (adjustment, transfer, count, receipt), one purchase-order line,
# one goods-receipt line, one price break or minimum order quantity.
MAX_QUANTITY = 1_000_000
# Units on one sales-order line (a shop or phone order, not a bulk transfer).
MAX_ORDER_LINE_QUANTITY = 100_000
MAX_ORDER_LINES = 500
MAX_PURCHASE_ORDER_LINES = 200
MAX_PRICE_BREAKS = 20  # per supplier product
# Free text without a column limit of its own (TextField): order and purchase-order notes.
MAX_NOTES_LENGTH = 2_000
# Dates a person plans with (requested, expected, confirmed delivery): from EARLIEST_DATE to
# MAX_YEARS_AHEAD years after today.
EARLIEST_DATE = date(2000, 1, 1)
MAX_YEARS_AHEAD = 5


def decimal_max(field: Any) -> Decimal:
    """The largest value a DecimalField can store: 9999999999.99 for max_digits=12, decimal_places=2."""
    places = field.decimal_places
    return Decimal(10) ** (field.max_digits - places) - Decimal(10) ** -places


def integer_max(field: Any) -> int:
    """The largest value an integer column (IntegerField, PositiveSmallIntegerField, …) can store."""
    return BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()][1]


def latest_date(today: date | None = None) -> date:
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)


def date_window(today: date | None = None) -> tuple[date, date]:
    """(earliest, latest) accepted for a planned date today."""
    return EARLIEST_DATE, latest_date(today)
