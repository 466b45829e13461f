"""`forecast`: fit and forecast 20,000 synthetic daily demand series (60 % intermittent).

The series run through the same code path as the planner's demand figures
(`suppliers.forecasting.forecast_demand`: Syntetos-Boylan classification, then SES / seasonal ES /
TSB fitted by statsforecast, one pass per method, plus the one-step in-sample errors
that give sigma). No database: the daily matrix is made in memory.

Accuracy on a holdout of the last 28 days, fitted on the 90 days before: MASE = MAE over the
holdout / in-sample MAE of the weekly seasonal-naive forecast (y[t] = y[t-7]), averaged over the
series whose scale is not zero; the same for the seasonal-naive forecast itself (repeat the last
week), as the baseline measured in the same run. MASE < 1 beats the in-sample naive.

    python3 -m scoms bench forecast [--series 20000] [--seed 1]

Closing line: `BENCH forecast series=… series_per_s=… mase=… naive_mase=…`.
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np

from bench._util import Stopwatch, bench_line, flag, log

HISTORY_DAYS = 90
HOLDOUT_DAYS = 28
INTERMITTENT_SHARE = 0.6
SEASON = 7


def synthetic_demand(series: int, days: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(matrix series x days, intermittent flag per series): retail-like daily demand.

    Smooth series: a level (gamma), a weekly profile of random strength, a mild trend and
    negative-binomial noise. Intermittent ones: a day has demand with probability 0.05-0.6,
    sizes 1 + Poisson/geometric (some lumpy); a tenth of them stop selling part-way (obsolete).
    """
    rng = np.random.default_rng(seed)
    intermittent = rng.random(series) < INTERMITTENT_SHARE
    day = np.arange(days)
    matrix = np.zeros((series, days))

    smooth = np.flatnonzero(~intermittent)
    level = rng.gamma(2.0, 6.0, size=(smooth.size, 1)) + 1
    profile = rng.normal(0, 1, size=(smooth.size, SEASON))
    profile -= profile.mean(axis=1, keepdims=True)
    strength = rng.choice([0.0, 0.15, 0.35], size=(smooth.size, 1), p=[0.3, 0.4, 0.3])
    weekly = np.clip(1 + strength * profile, 0.2, None)[:, day % SEASON]
    trend = 1 + rng.normal(0, 0.002, size=(smooth.size, 1)) * day
    mean = np.clip(level * weekly * trend, 0.05, None)
    dispersion = 5.0  # negative binomial: variance = mean + mean² / 5
    matrix[smooth] = rng.negative_binomial(dispersion, dispersion / (dispersion + mean))

    sparse = np.flatnonzero(intermittent)
    probability = rng.uniform(0.05, 0.6, size=(sparse.size, 1))
    occurs = rng.random((sparse.size, days)) < probability
    size_mean = rng.gamma(1.5, 3.0, size=(sparse.size, 1))
    lumpy = rng.random((sparse.size, 1)) < 0.3
    sizes = np.where(
        lumpy,
        rng.geometric(1 / (1 + size_mean), size=(sparse.size, days)),
        1 + rng.poisson(size_mean, size=(sparse.size, days)),
    )
    stops = np.where(rng.random(sparse.size) < 0.1, rng.integers(days // 3, days, sparse.size), days)
    alive = day[None, :] < stops[:, None]
    matrix[sparse] = np.where(occurs & alive, sizes, 0)
    return matrix, intermittent


def seasonal_naive_scale(train: np.ndarray) -> np.ndarray:
    """In-sample MAE of y[t] = y[t-7] per series (the MASE denominator)."""
    return np.abs(train[:, SEASON:] - train[:, :-SEASON]).mean(axis=1)


def seasonal_naive_forecast(train: np.ndarray, horizon: int) -> np.ndarray:
    last_week = train[:, -SEASON:]
    return last_week[:, np.arange(horizon) % SEASON]


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, mask: np.ndarray) -> float:
    errors = np.abs(actual - forecast).mean(axis=1)
    return float((errors[mask] / scale[mask]).mean())


def main(argv: list[str]) -> int:
    from suppliers.forecasting import forecast_demand

    count = int(flag(argv, "series", "20000") or 20000)
    seed = int(flag(argv, "seed", "1") or 1)
    matrix, intermittent = synthetic_demand(count, HISTORY_DAYS + HOLDOUT_DAYS, seed=seed)
    train, actual = matrix[:, :HISTORY_DAYS], matrix[:, HISTORY_DAYS:]
    log(f"forecast: {count} series of {HISTORY_DAYS} days ({intermittent.mean():.0%} generated intermittent)")

    forecast_demand(train[:50], horizon=HOLDOUT_DAYS)  # warm-up: imports and first-call set-up
    with Stopwatch() as watch:
        batch = forecast_demand(train, horizon=HOLDOUT_DAYS)
    series_per_s = count / watch.seconds

    scale = seasonal_naive_scale(train)
    scored = scale > 0
    ours = mase(actual, batch.forecast, scale, scored)
    naive = mase(actual, seasonal_naive_forecast(train, HOLDOUT_DAYS), scale, scored)
    methods = Counter(str(method) for method in batch.methods)
    classified = batch.classification.intermittent
    log(f"fit+forecast {watch.seconds:.2f} s; methods {dict(sorted(methods.items()))}; "
        f"classified intermittent {classified.mean():.1%} (generated {intermittent.mean():.1%})")
    for label, group in (("intermittent", intermittent), ("smooth", ~intermittent)):
        mask = scored & group
        log(f"  {label:<12} MASE ours {mase(actual, batch.forecast, scale, mask):.3f} "
            f"vs seasonal naive {mase(actual, seasonal_naive_forecast(train, HOLDOUT_DAYS), scale, mask):.3f} "
            f"({mask.sum()} series)")
    bias = float((batch.forecast - actual).mean())
    print(f"forecast: {count} series, {series_per_s:.0f} series/s, MASE {ours:.3f} vs seasonal naive {naive:.3f}, "
          f"mean bias {bias:+.3f} units/day, {int(scored.sum())} series scored")
    bench_line(
        "forecast", series=count, series_per_s=round(series_per_s), mase=ours, naive_mase=naive,
        holdout_days=HOLDOUT_DAYS, scored=int(scored.sum()), bias=bias,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
