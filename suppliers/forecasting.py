"""Demand forecasting: daily demand per product x warehouse, a forecast, and its error.

Demand is read from the stock ledger: every `shipment` movement (quantity < 0) is demand that
left the warehouse on that (local) day. The daily series of all wanted product x warehouse pairs
come from ONE set-based query over the last N days (never a query per SKU); days without a
shipment are zero.

Each series is classified after Syntetos-Boylan: ADI (average days per day with demand) ≥ 1.32 or
CV² of the non-zero demand sizes ≥ 0.49 is *intermittent* (or erratic/lumpy) and forecast with
TSB (Teunter-Syntetos-Babai: smoothed demand probability x smoothed size, which — unlike
Croston — decays when a product stops selling, so dead SKUs stop being reordered). Smooth series
are forecast with exponential smoothing: seasonal exponential smoothing (one level per weekday,
smoothing constant optimised) when the weekly autocorrelation is significant, simple exponential
smoothing (optimised) otherwise. The models are statsforecast's (SimpleExponentialSmoothingOptimized,
SeasonalExponentialSmoothingOptimized, TSB; their C++ core), all series of one method fitted in
one pass, so tens of thousands of series take seconds.

`sigma` is the root mean square of the one-step-ahead in-sample errors (the forecast error the
safety stock has to cover); with fewer than two such errors it falls back to the standard
deviation of daily demand. `mae`/`mape` describe the same one-step errors (MAPE in percent over
the days with demand; None when there is no such day).

The pure part (`classify_demand`, `forecast_demand`) works on a NumPy matrix (series x days) and
is what `bench/forecast.py` measures; `daily_demand_stats` and `forecast_vs_actual` add the
database query around it.

Why shipments and not ordered lines: suppliers may read inventory but not orders (DESIGN.md), and
the ledger knows the warehouse, which an unallocated order line does not. The price is censored
demand: days a product was out of stock count as zero (a known bias of every shipment-based
forecast). Returns are not netted out.

Cost: the figures depend only on whole days before `as_of`, so they are the same all day long; at
100,000 pairs one call is the history query (a few seconds over ~5 million ledger rows) plus
~10-20k series/s of fitting (bench: `python3 -m scoms bench forecast`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import chain
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

SEASON_LENGTH = 7  # days: the weekly pattern of retail demand
ADI_CUTOFF = 1.32  # Syntetos-Boylan: average inter-demand interval
CV2_CUTOFF = 0.49  # Syntetos-Boylan: squared coefficient of variation of demand sizes
TSB_ALPHA_DEMAND = 0.1  # TSB smoothing of the size of non-zero demand
TSB_ALPHA_PROBABILITY = 0.1  # TSB smoothing of the probability of a day with demand
SEASONALITY_Z = 1.645  # one-sided 95 % / two-sided 90 %: the ACF test of Hyndman's forecast/theta
MIN_SEASONAL_DAYS = 3 * SEASON_LENGTH  # the weekly test needs three weeks
MIN_MODEL_DAYS = 3  # fewer days of history: the plain mean is the forecast
DEFAULT_HORIZON = 28  # days averaged into the mean daily forecast (whole weeks)

METHOD_NONE = "none"  # no demand in the window
METHOD_MEAN = "mean"  # too short to fit a model
METHOD_SES = "ses"  # simple exponential smoothing, alpha optimised
METHOD_SEASONAL_ES = "seasonal_es"  # one exponentially smoothed level per weekday
METHOD_TSB = "tsb"  # Teunter-Syntetos-Babai for intermittent demand
METHODS = (METHOD_NONE, METHOD_MEAN, METHOD_SES, METHOD_SEASONAL_ES, METHOD_TSB)


@dataclass(frozen=True, slots=True)
class DemandStats:
    """Demand of one product in one warehouse, per day.

    mean: forecast mean daily demand (units/day) over the next DEFAULT_HORIZON days;
    sigma: standard deviation of the daily forecast error (units/day) — sigma for safety stock;
    method: one of METHODS; mae: mean absolute one-step error (units/day) or None without
    history; mape: mean absolute percentage error in percent over days with demand, or None.
    """

    mean: float
    sigma: float
    method: str
    mae: float | None
    mape: float | None

    @classmethod
    def no_demand(cls) -> DemandStats:
        return cls(mean=0.0, sigma=0.0, method=METHOD_NONE, mae=None, mape=None)


@dataclass(frozen=True, slots=True)
class DemandClassification:
    """Per series (arrays of length n): where the history starts and its Syntetos-Boylan class."""

    starts: np.ndarray  # index of the first day with demand (= days when there is none)
    lengths: np.ndarray  # days from the first day with demand to the end
    demand_days: np.ndarray  # days with demand > 0
    adi: np.ndarray  # lengths / demand_days (inf without demand)
    cv2: np.ndarray  # squared coefficient of variation of the non-zero sizes (0 without demand)
    intermittent: np.ndarray  # bool: ADI ≥ 1.32 or CV² ≥ 0.49
    seasonal: np.ndarray  # bool: significant weekly autocorrelation (smooth series only matter)


@dataclass(frozen=True, slots=True)
class BatchForecast:
    """Forecasts of n series at once; `None`-able figures are NaN here."""

    methods: np.ndarray  # str per series
    forecast: np.ndarray  # (n, horizon) daily forecasts after the last day
    mean: np.ndarray  # mean of `forecast` per series
    sigma: np.ndarray
    mae: np.ndarray
    mape: np.ndarray
    classification: DemandClassification

    def stats(self, index: int) -> DemandStats:
        mae, mape = float(self.mae[index]), float(self.mape[index])
        return DemandStats(
            mean=float(self.mean[index]),
            sigma=float(self.sigma[index]),
            method=str(self.methods[index]),
            mae=None if math.isnan(mae) else mae,
            mape=None if math.isnan(mape) else mape,
        )


# --- the pure part: NumPy in, NumPy out -------------------------------------------------------
def classify_demand(matrix: np.ndarray) -> DemandClassification:
    """Syntetos-Boylan class and weekly seasonality of each row of a (series x days) matrix.

    Leading days without demand are ignored (a product launched recently is not intermittent
    just because it did not exist yet).
    """
    values = np.clip(np.asarray(matrix, dtype=np.float64), 0, None)
    days = values.shape[1]
    positive = values > 0
    has_demand = positive.any(axis=1)
    starts = np.where(has_demand, positive.argmax(axis=1), days)
    lengths = days - starts
    demand_days = positive.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(demand_days > 0, lengths / np.maximum(demand_days, 1), np.inf)
        size_sum = values.sum(axis=1)
        size_mean = size_sum / np.maximum(demand_days, 1)
        size_square_mean = (values**2).sum(axis=1) / np.maximum(demand_days, 1)
        size_variance = np.maximum(size_square_mean - size_mean**2, 0)
        cv2 = np.where(demand_days > 0, size_variance / np.maximum(size_mean, 1e-12) ** 2, 0.0)
    intermittent = has_demand & ((adi >= ADI_CUTOFF) | (cv2 >= CV2_CUTOFF))
    seasonal = _weekly_seasonality(values, starts, lengths)
    return DemandClassification(
        starts=starts, lengths=lengths, demand_days=demand_days, adi=adi, cv2=cv2,
        intermittent=intermittent, seasonal=seasonal,
    )


def _weekly_seasonality(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """ACF test at lag 7 (as in Hyndman's theta/ETS): |r7| > z·√((1 + 2Σ_{k<7} r_k²) / n)."""
    n, days = values.shape
    valid = np.arange(days)[None, :] >= starts[:, None]
    count = np.maximum(lengths, 1)
    mean = np.where(valid, values, 0).sum(axis=1) / count
    centred = np.where(valid, values - mean[:, None], 0.0)
    denominator = (centred**2).sum(axis=1)
    acf = np.zeros((n, SEASON_LENGTH + 1))
    for lag in range(1, SEASON_LENGTH + 1):
        if lag < days:
            acf[:, lag] = (centred[:, lag:] * centred[:, :-lag]).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        acf = np.where(denominator[:, None] > 0, acf / denominator[:, None], 0.0)
        limit = SEASONALITY_Z * np.sqrt((1 + 2 * (acf[:, 1:SEASON_LENGTH] ** 2).sum(axis=1)) / count)
    return (lengths >= MIN_SEASONAL_DAYS) & (acf[:, SEASON_LENGTH] > limit)


def forecast_demand(matrix: np.ndarray, *, horizon: int = DEFAULT_HORIZON) -> BatchForecast:
    """Classify, fit and forecast every row of a (series x days) matrix of daily demand.

    Rows are fitted in one pass per method (statsforecast models). Returns the daily forecasts
    for the `horizon` days after the last column, their mean, sigma of the one-step errors and the
    in-sample MAE/MAPE.
    """
    values = np.clip(np.asarray(matrix, dtype=np.float64), 0, None)
    if values.ndim != 2:
        raise ValueError("matrix must be two-dimensional (series x days)")
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    n = values.shape[0]
    classes = classify_demand(values)
    methods = np.full(n, METHOD_NONE, dtype=object)
    has_demand = classes.demand_days > 0
    short = has_demand & (classes.lengths < MIN_MODEL_DAYS)
    modelled = has_demand & ~short
    methods[short] = METHOD_MEAN
    methods[modelled & classes.intermittent] = METHOD_TSB
    smooth = modelled & ~classes.intermittent
    methods[smooth & classes.seasonal] = METHOD_SEASONAL_ES
    methods[smooth & ~classes.seasonal] = METHOD_SES

    forecast = np.zeros((n, horizon))
    fitted = np.full(values.shape, np.nan)
    for method in (METHOD_SES, METHOD_SEASONAL_ES, METHOD_TSB):
        rows = np.flatnonzero(methods == method)
        if rows.size:
            forecast[rows], fitted[rows] = _fit_statsforecast(values[rows], classes.starts[rows], method, horizon)
    rows = np.flatnonzero(short)
    if rows.size:
        valid = np.arange(values.shape[1])[None, :] >= classes.starts[rows][:, None]
        short_mean = np.where(valid, values[rows], 0).sum(axis=1) / classes.lengths[rows]
        forecast[rows] = short_mean[:, None]
    forecast = np.clip(forecast, 0, None)

    residuals = values - fitted  # NaN where there is no one-step forecast
    scored = ~np.isnan(residuals)
    scored_count = scored.sum(axis=1)
    absolute = np.where(scored, np.abs(residuals), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mae = np.where(scored_count > 0, absolute.sum(axis=1) / scored_count, np.nan)
        rmse = np.sqrt(np.where(scored, residuals**2, 0.0).sum(axis=1) / scored_count)
        with_demand = scored & (values > 0)
        percentage = np.where(with_demand, absolute / np.where(values > 0, values, 1), 0.0)
        mape = np.where(with_demand.any(axis=1), 100 * percentage.sum(axis=1) / with_demand.sum(axis=1), np.nan)
    valid = np.arange(values.shape[1])[None, :] >= classes.starts[:, None]
    spread = _masked_std(values, valid, classes.lengths)
    sigma = np.where(scored_count >= 2, rmse, spread)
    sigma = np.where(has_demand, sigma, 0.0)
    return BatchForecast(
        methods=methods, forecast=forecast, mean=forecast.mean(axis=1), sigma=np.nan_to_num(sigma),
        mae=mae, mape=mape, classification=classes,
    )


def _masked_std(values: np.ndarray, valid: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    count = np.maximum(lengths, 1)
    mean = np.where(valid, values, 0).sum(axis=1) / count
    return np.sqrt(np.where(valid, (values - mean[:, None]) ** 2, 0).sum(axis=1) / count)


def _model(method: str) -> Any:
    from statsforecast.models import (
        TSB,
        SeasonalExponentialSmoothingOptimized,
        SimpleExponentialSmoothingOptimized,
    )

    if method == METHOD_SES:
        return SimpleExponentialSmoothingOptimized(alias="forecast")
    if method == METHOD_SEASONAL_ES:
        return SeasonalExponentialSmoothingOptimized(season_length=SEASON_LENGTH, alias="forecast")
    if method == METHOD_TSB:
        return TSB(alpha_d=TSB_ALPHA_DEMAND, alpha_p=TSB_ALPHA_PROBABILITY, alias="forecast")
    raise ValueError(f"unknown method {method!r}")


def _fit_statsforecast(
    values: np.ndarray, starts: np.ndarray, method: str, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit one statsforecast model to every row: (forecast (rows x horizon), fitted (rows x days)).

    Each row is fitted from its first day with demand. The model objects' own `forecast(y=…, h=…,
    fitted=True)` is called directly: the `StatsForecast` DataFrame front end loops over the
    series in Python just the same, and its pandas reshaping cost more than the fits themselves
    (about 3 s of 4.5 s at 80,000 series); suppliers/tests/test_forecasting.py checks both agree.
    """
    model = _model(method)
    rows = values.shape[0]
    forecast = np.zeros((rows, horizon))
    fitted = np.full(values.shape, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in range(rows):
            start = int(starts[row])
            result = model.forecast(y=values[row, start:], h=horizon, fitted=True)
            forecast[row] = result["mean"]
            fitted[row, start:] = result["fitted"]
    return np.nan_to_num(forecast), fitted


def forecast_accuracy(actual: np.ndarray, forecast: np.ndarray) -> tuple[float | None, float | None]:
    """(MAE, MAPE in percent over days with demand) of one forecast path; None when undefined."""
    actual = np.asarray(actual, dtype=np.float64)
    forecast = np.asarray(forecast, dtype=np.float64)
    if actual.size == 0:
        return None, None
    errors = np.abs(actual - forecast)
    with_demand = actual > 0
    mape = float(100 * (errors[with_demand] / actual[with_demand]).mean()) if with_demand.any() else None
    return float(errors.mean()), mape


# --- the database part ------------------------------------------------------------------------
Pair = tuple[int, int]


@dataclass(frozen=True, slots=True)
class DemandHistory:
    """Daily demand of `keys[i]` on day `first_day + j` is `matrix[i, j]`."""

    keys: list[tuple[int, int | None]]
    first_day: date
    matrix: np.ndarray


# The shipments of the window straight from the ledger, one row per pair with each movement's local
# calendar day (AT TIME ZONE: a late-evening shipment counts on its day) and quantity as two arrays;
# NumPy sums them into the dense zero-filled (pair x day) matrix. Grouping by pair only, not by
# pair and day, spares PostgreSQL a hash table with one entry per pair-day (millions for 100,000
# pairs: it spilled to disk and doubled the time). The wanted pairs come in as two arrays and are
# joined by plain equality (hashable: PostgreSQL can hash-join them with the ledger or walk the
# (product, warehouse) index for a few).
_HISTORY_SQL = """
WITH wanted AS (
    SELECT DISTINCT w.product_id, w.warehouse_id
    FROM unnest(%(product_ids)s::bigint[], %(warehouse_ids)s::bigint[]) AS w(product_id, warehouse_id)
)
SELECT m.product_id, {warehouse} AS warehouse_id,
       array_agg((m.created_at AT TIME ZONE %(tz)s)::date - %(first_day)s::date), array_agg(-m.quantity)
FROM inventory_stockmovement m
{join}
WHERE m.kind = %(kind)s AND m.created_at >= %(since)s AND m.created_at < %(until)s
GROUP BY 1, 2
"""
_JOIN_PAIRS = "JOIN wanted w ON w.product_id = m.product_id AND w.warehouse_id = m.warehouse_id"
_JOIN_PRODUCTS = "JOIN (SELECT DISTINCT product_id FROM wanted) w ON w.product_id = m.product_id"


def _array_literal(values: Iterable[int | None]) -> str:
    return "{" + ",".join("NULL" if value is None else str(int(value)) for value in values) + "}"


def demand_history(
    *,
    first_day: date,
    days: int,
    product_warehouse_pairs: Iterable[tuple[int, int | None]] | None = None,
    by_warehouse: bool = True,
) -> DemandHistory:
    """Daily shipped quantities of `days` days from `first_day` (local calendar days), one query.

    With `product_warehouse_pairs` every requested pair gets a row (zeros without shipments);
    without, every pair that shipped in the window. `by_warehouse=False` sums all warehouses
    (pairs are then `(product_id, None)`).
    """
    from inventory.models import MovementKind  # here, so the pure part imports without Django set up

    if days < 1:
        raise ValueError("days must be at least 1")
    wanted: list[tuple[int, int | None]] | None = None
    if product_warehouse_pairs is not None:
        wanted = list(dict.fromkeys(
            (int(product_id), int(warehouse_id) if warehouse_id is not None and by_warehouse else None)
            for product_id, warehouse_id in product_warehouse_pairs
        ))
    zone = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(first_day, time.min), zone)
    until = timezone.make_aware(datetime.combine(first_day + timedelta(days=days), time.min), zone)
    params = {
        # Array literals as text: adapting 100,000-element lists value by value costs a second.
        "product_ids": _array_literal(product_id for product_id, _ in wanted or []),
        "warehouse_ids": _array_literal(warehouse_id for _, warehouse_id in wanted or []),
        "tz": timezone.get_current_timezone_name(),
        "first_day": first_day,
        "kind": MovementKind.SHIPMENT,
        "since": since,
        "until": until,
    }
    sql = _HISTORY_SQL.format(
        warehouse="m.warehouse_id" if by_warehouse else "NULL::bigint",
        join="" if wanted is None else _JOIN_PAIRS if by_warehouse else _JOIN_PRODUCTS,
    )
    if wanted is not None and not wanted:
        return DemandHistory(keys=[], first_day=first_day, matrix=np.zeros((0, days)))
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT would compile this big but simple aggregate for seconds and win nothing; a larger
        # work_mem keeps the arrays of a 100,000-pair history in memory.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql, params)
        found = cursor.fetchall()
    keys: list[tuple[int, int | None]] = wanted if wanted is not None else [(row[0], row[1]) for row in found]
    position = {key: index for index, key in enumerate(keys)}
    matrix = np.zeros((len(keys), days))
    if found:
        row_index = np.repeat(
            [position[(row[0], row[1])] for row in found], [len(row[2]) for row in found]
        )
        day_index = np.fromiter(chain.from_iterable(row[2] for row in found), dtype=np.int64, count=row_index.size)
        quantities = np.fromiter(chain.from_iterable(row[3] for row in found), dtype=np.float64, count=row_index.size)
        inside = (day_index >= 0) & (day_index < days)
        cells = row_index[inside] * days + day_index[inside]
        matrix = np.bincount(cells, weights=quantities[inside], minlength=len(keys) * days).reshape(len(keys), days)
    return DemandHistory(keys=keys, first_day=first_day, matrix=np.clip(matrix, 0, None))


def _today() -> date:
    return timezone.localdate()


def daily_demand_stats(
    *,
    product_warehouse_pairs: Iterable[Pair] | None = None,
    history_days: int = 90,
    as_of: date | None = None,
    horizon: int = DEFAULT_HORIZON,
) -> dict[Pair, DemandStats]:
    """Mean daily demand forecast and sigma per (product_id, warehouse_id) — the ROP inputs.

    History: the `history_days` whole days before `as_of` (default today; today itself is not
    complete and is left out). With `product_warehouse_pairs` every pair is in the result (pairs
    without shipments get `DemandStats.no_demand()`); without, every pair that shipped in the
    window. One SQL query plus one statsforecast call per method, whatever the number of pairs.
    """
    if history_days < 1:
        raise ValueError("history_days must be at least 1")
    end = as_of or _today()
    history = demand_history(
        first_day=end - timedelta(days=history_days), days=history_days,
        product_warehouse_pairs=product_warehouse_pairs,
    )
    if not history.keys:
        return {}
    batch = forecast_demand(history.matrix, horizon=horizon)
    return {key: batch.stats(index) for index, key in enumerate(history.keys)}  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class ForecastPoint:
    """One day of the chart: `actual` is None for days still to come."""

    day: date
    actual: float | None
    forecast: float


@dataclass(frozen=True, slots=True)
class ForecastComparison:
    """Forecast vs actual of one product (in one warehouse, or all when `warehouse_id` is None).

    `points` holds, in day order, first the `days` evaluation days before `as_of` — `forecast` is
    what the method predicted for them when fitted on the history *before* those days (a
    holdout, as a planner would have seen it), `actual` what shipped — then the `horizon`
    coming days from `as_of` on (actual None, forecast from the full history). `mae`/`mape`
    (percent, over days with demand) compare the two on the evaluation days; None when
    undefined. `method`, `mean`, `sigma` describe the current forecast (as daily_demand_stats).
    """

    product_id: int
    warehouse_id: int | None
    method: str
    holdout_method: str
    mean: float
    sigma: float
    mae: float | None
    mape: float | None
    points: list[ForecastPoint] = field(default_factory=list)

    def chart_data(self) -> dict[str, Any]:
        """JSON-ready for `{{ …|json_script }}`: labels (ISO days) and two aligned series."""
        return {
            "labels": [point.day.isoformat() for point in self.points],
            "actual": [point.actual for point in self.points],
            "forecast": [round(point.forecast, 3) for point in self.points],
            "method": self.method,
            "mae": None if self.mae is None else round(self.mae, 3),
            "mape": None if self.mape is None else round(self.mape, 1),
        }


def forecast_vs_actual(
    *,
    product_id: int,
    warehouse_id: int | None = None,
    days: int = 28,
    history_days: int = 90,
    horizon: int = 14,
    as_of: date | None = None,
) -> ForecastComparison:
    """Per-day actual vs forecast of one product for the product page chart, with MAE/MAPE.

    One query reads `history_days + days` days; the holdout forecast is fitted on the first
    `history_days`, the current one on the last `history_days` (the window daily_demand_stats
    uses). `warehouse_id=None` sums all warehouses.
    """
    if days < 1 or history_days < 1 or horizon < 1:
        raise ValueError("days, history_days and horizon must be at least 1")
    end = as_of or _today()
    first_day = end - timedelta(days=history_days + days)
    history = demand_history(
        first_day=first_day, days=history_days + days,
        product_warehouse_pairs=[(product_id, warehouse_id)], by_warehouse=warehouse_id is not None,
    )
    series = history.matrix[0]
    past = forecast_demand(series[None, :history_days], horizon=days)
    current = forecast_demand(series[None, days:], horizon=horizon)
    actual = series[history_days:]
    predicted = past.forecast[0]
    mae, mape = forecast_accuracy(actual, predicted)
    points = [
        ForecastPoint(day=first_day + timedelta(days=history_days + offset), actual=float(actual[offset]),
                      forecast=float(predicted[offset]))
        for offset in range(days)
    ]
    points += [
        ForecastPoint(day=end + timedelta(days=offset), actual=None, forecast=float(current.forecast[0, offset]))
        for offset in range(horizon)
    ]
    return ForecastComparison(
        product_id=product_id, warehouse_id=warehouse_id, method=str(current.methods[0]),
        holdout_method=str(past.methods[0]), mean=float(current.mean[0]), sigma=float(current.sigma[0]),
        mae=mae, mape=mape, points=points,
    )

