"""Supplier scorecards: on time, in full, OTIF, lead time, price variance, open PO value.

A purchase order line is measured by its first receipt: on time when that receipt came no later
than the promised date (the supplier's confirmed date, else the expected date), in full when it
brought the whole ordered quantity. Lead time is the days from sending the order to that first
receipt. Every figure is one SQL statement for all suppliers of the period (constant queries).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from suppliers.models import Supplier
from suppliers.statuses import COMMITTED_STATUSES


def _percent(part: int | float | None, whole: int | float | None) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _round(value: Any, places: str = "0.1") -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in the project time zone."""
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


@dataclass
class Scorecard:
    supplier_id: int
    code: str = ""
    name: str = ""
    period: date | None = None  # the month, for monthly rows
    lines_measured: int = 0
    on_time_percent: Decimal | None = None
    in_full_percent: Decimal | None = None
    otif_percent: Decimal | None = None
    lead_time_avg_days: Decimal | None = None
    lead_time_sigma_days: Decimal | None = None
    days_late_avg: Decimal | None = None
    price_variance_percent: Decimal | None = None
    open_po_value: Decimal = Decimal("0")
    warnings: list[str] = field(default_factory=list)


_LINES_SQL = """
WITH first_receipt AS (
    SELECT DISTINCT ON (rl.line_id) rl.line_id, r.received_at, rl.quantity
      FROM suppliers_goodsreceiptline rl
      JOIN suppliers_goodsreceipt r ON r.id = rl.receipt_id
     WHERE r.received_at < %(end)s
     ORDER BY rl.line_id, r.received_at, r.id
), measured AS (
    SELECT po.supplier_id,
           {bucket} AS bucket,
           l.quantity, fr.quantity AS first_quantity,
           (fr.received_at AT TIME ZONE %(tz)s)::date AS received_on,
           COALESCE(l.confirmed_date, l.expected_date) AS promised_on,
           (COALESCE(po.sent_at, po.created_at) AT TIME ZONE %(tz)s)::date AS sent_on
      FROM first_receipt fr
      JOIN suppliers_purchaseorderline l ON l.id = fr.line_id
      JOIN suppliers_purchaseorder po ON po.id = l.purchase_order_id
     WHERE fr.received_at >= %(start)s {supplier_filter}
)
SELECT supplier_id, bucket, COUNT(*),
       COUNT(*) FILTER (WHERE promised_on IS NULL OR received_on <= promised_on),
       COUNT(*) FILTER (WHERE first_quantity >= quantity),
       COUNT(*) FILTER (WHERE (promised_on IS NULL OR received_on <= promised_on) AND first_quantity >= quantity),
       AVG(received_on - sent_on), STDDEV_SAMP(received_on - sent_on),
       AVG(received_on - promised_on)
  FROM measured
 GROUP BY supplier_id, bucket
"""

_PRICE_SQL = """
SELECT po.supplier_id, {bucket} AS bucket,
       SUM((rl.unit_cost - l.unit_cost) * rl.quantity), SUM(l.unit_cost * rl.quantity)
  FROM suppliers_goodsreceiptline rl
  JOIN suppliers_goodsreceipt r ON r.id = rl.receipt_id
  JOIN suppliers_purchaseorderline l ON l.id = rl.line_id
  JOIN suppliers_purchaseorder po ON po.id = l.purchase_order_id
 WHERE r.received_at >= %(start)s AND r.received_at < %(end)s {supplier_filter}
 GROUP BY 1, 2
"""

_OPEN_VALUE_SQL = """
SELECT po.supplier_id, SUM(GREATEST(l.quantity - l.quantity_received, 0) * l.unit_cost)
  FROM suppliers_purchaseorderline l
  JOIN suppliers_purchaseorder po ON po.id = l.purchase_order_id
 WHERE po.status = ANY(%(statuses)s) {supplier_filter}
 GROUP BY 1
"""


def _query(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def supplier_scorecards(
    *, start: date, end: date, supplier_ids: Iterable[int] | None = None, by_month: bool = False,
) -> list[Scorecard]:
    """One scorecard per supplier (and month, with `by_month`) for receipts in [start, end].

    Suppliers without any receipt in the period still appear (per supplier, not per month) with
    their open PO value, so the ranking lists everyone active. Four queries in all.
    """
    begin, finish = _bounds(start, end)
    params: dict[str, Any] = {"start": begin, "end": finish, "tz": settings.TIME_ZONE,
                              "statuses": list(COMMITTED_STATUSES)}
    supplier_filter = ""
    if supplier_ids is not None:
        params["suppliers"] = list(supplier_ids)
        supplier_filter = "AND po.supplier_id = ANY(%(suppliers)s)"
    line_bucket = "date_trunc('month', fr.received_at AT TIME ZONE %(tz)s)::date" if by_month else "NULL::date"
    price_bucket = "date_trunc('month', r.received_at AT TIME ZONE %(tz)s)::date" if by_month else "NULL::date"
    cards: dict[tuple[int, date | None], Scorecard] = {}
    for row in _query(_LINES_SQL.format(bucket=line_bucket, supplier_filter=supplier_filter), params):
        supplier_id, bucket, count, on_time, in_full, otif, lead_avg, lead_sigma, late_avg = row
        cards[(supplier_id, bucket)] = Scorecard(
            supplier_id=supplier_id, period=bucket, lines_measured=count,
            on_time_percent=_percent(on_time, count), in_full_percent=_percent(in_full, count),
            otif_percent=_percent(otif, count), lead_time_avg_days=_round(lead_avg),
            lead_time_sigma_days=_round(lead_sigma), days_late_avg=_round(late_avg),
        )
    for supplier_id, bucket, difference, base in _query(
        _PRICE_SQL.format(bucket=price_bucket, supplier_filter=supplier_filter), params
    ):
        card = cards.setdefault((supplier_id, bucket), Scorecard(supplier_id=supplier_id, period=bucket))
        card.price_variance_percent = _round(difference * 100 / base, "0.01") if base else None
    suppliers = Supplier.objects.all() if supplier_ids is None else Supplier.objects.filter(pk__in=params["suppliers"])
    names = {pk: (code, name) for pk, code, name, active in suppliers.values_list("pk", "code", "name", "active")
             if active or any(key[0] == pk for key in cards)}
    if not by_month:
        for supplier_id in names:
            cards.setdefault((supplier_id, None), Scorecard(supplier_id=supplier_id))
        for supplier_id, value in _query(_OPEN_VALUE_SQL.format(supplier_filter=supplier_filter), params):
            if (supplier_id, None) in cards:
                cards[(supplier_id, None)].open_po_value = _round(value, "0.01") or Decimal("0")
    threshold = settings.SUPPLIER_MIN_OTIF_PERCENT
    result = []
    for (supplier_id, _bucket), card in cards.items():
        if supplier_id not in names:
            continue
        card.code, card.name = names[supplier_id]
        if (card.otif_percent is not None and card.lines_measured >= settings.SUPPLIER_STANDING_MIN_LINES
                and card.otif_percent < threshold):
            card.warnings.append("below_threshold")
        result.append(card)
    return result


def ranking(*, start: date, end: date) -> list[Scorecard]:
    """Suppliers best first: OTIF, then on time, then price variance; unmeasured last."""
    cards = supplier_scorecards(start=start, end=end)

    def key(card: Scorecard) -> tuple:
        measured = card.otif_percent is not None
        return (
            not measured,
            -(card.otif_percent or 0),
            -(card.on_time_percent or 0),
            card.price_variance_percent or 0,
            card.name,
        )

    return sorted(cards, key=key)


@dataclass(frozen=True)
class Standing:
    supplier_id: int
    otif_percent: Decimal | None
    lines_measured: int
    threshold: Decimal
    below_threshold: bool


def standings(*, supplier_ids: Iterable[int] | None = None) -> dict[int, Standing]:
    """OTIF over the last SUPPLIER_STANDING_DAYS for the given (or all) suppliers: one query."""
    end = timezone.localdate()
    start = end - timedelta(days=settings.SUPPLIER_STANDING_DAYS)
    begin, finish = _bounds(start, end)
    params: dict[str, Any] = {"start": begin, "end": finish, "tz": settings.TIME_ZONE}
    supplier_filter = ""
    if supplier_ids is not None:
        params["suppliers"] = list(supplier_ids)
        supplier_filter = "AND po.supplier_id = ANY(%(suppliers)s)"
    threshold = settings.SUPPLIER_MIN_OTIF_PERCENT
    result = {}
    for row in _query(_LINES_SQL.format(bucket="NULL::date", supplier_filter=supplier_filter), params):
        supplier_id, _bucket, count, _on_time, _in_full, otif = row[:6]
        percent = _percent(otif, count)
        result[supplier_id] = Standing(
            supplier_id=supplier_id, otif_percent=percent, lines_measured=count, threshold=threshold,
            below_threshold=count >= settings.SUPPLIER_STANDING_MIN_LINES and percent is not None and percent < threshold,
        )
    return result


def supplier_standing(*, supplier_id: int) -> Standing:
    found = standings(supplier_ids=[supplier_id]).get(supplier_id)
    return found or Standing(supplier_id, None, 0, settings.SUPPLIER_MIN_OTIF_PERCENT, False)


_LEAD_TIME_SQL = """
WITH first_receipt AS (
    SELECT DISTINCT ON (rl.line_id) rl.line_id, r.received_at
      FROM suppliers_goodsreceiptline rl
      JOIN suppliers_goodsreceipt r ON r.id = rl.receipt_id
     WHERE r.received_at >= now() - make_interval(days => %(days)s)
     ORDER BY rl.line_id, r.received_at, r.id
)
SELECT po.supplier_id, l.product_id, GROUPING(l.product_id) AS whole_supplier, COUNT(*),
       AVG(((fr.received_at AT TIME ZONE %(tz)s)::date
            - (COALESCE(po.sent_at, po.created_at) AT TIME ZONE %(tz)s)::date))::float8,
       COALESCE(STDDEV_SAMP(((fr.received_at AT TIME ZONE %(tz)s)::date
            - (COALESCE(po.sent_at, po.created_at) AT TIME ZONE %(tz)s)::date)), 0)::float8
  FROM first_receipt fr
  JOIN suppliers_purchaseorderline l ON l.id = fr.line_id
  JOIN suppliers_purchaseorder po ON po.id = l.purchase_order_id
 GROUP BY GROUPING SETS ((po.supplier_id, l.product_id), (po.supplier_id))
HAVING COUNT(*) >= %(minimum)s
"""


@dataclass(frozen=True)
class MeasuredLeadTime:
    mean_days: float
    sigma_days: float
    receipts: int


def measured_lead_times(
    *, days: int = 365,
) -> tuple[dict[tuple[int, int], MeasuredLeadTime], dict[int, MeasuredLeadTime]]:
    """Lead times from receipts, per (supplier, product) and per supplier, where at least
    REPLENISHMENT_MIN_RECEIPTS_FOR_LEAD_TIME lines were received. One query."""
    per_product: dict[tuple[int, int], MeasuredLeadTime] = {}
    per_supplier: dict[int, MeasuredLeadTime] = {}
    params = {"days": days, "tz": settings.TIME_ZONE, "minimum": settings.REPLENISHMENT_MIN_RECEIPTS_FOR_LEAD_TIME}
    for supplier_id, product_id, whole_supplier, count, mean, sigma in _query(_LEAD_TIME_SQL, params):
        measured = MeasuredLeadTime(max(float(mean), 0.0), float(sigma), count)
        if whole_supplier:
            per_supplier[supplier_id] = measured
        else:
            per_product[(supplier_id, product_id)] = measured
    return per_product, per_supplier
