"""Demand forecasting: classification, forecasts on made-up series, accuracy by hand, the ledger query."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pytest
from django.utils import timezone

from inventory import services as stock
from inventory.models import MovementKind, StockMovement
from inventory.services import StockLine
from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers import forecasting
from suppliers.forecasting import (
    METHOD_MEAN,
    METHOD_NONE,
    METHOD_SEASONAL_ES,
    METHOD_SES,
    METHOD_TSB,
    DemandStats,
    classify_demand,
    daily_demand_stats,
    forecast_accuracy,
    forecast_demand,
    forecast_vs_actual,
)

AS_OF = date(2025, 6, 30)
WEEK = [10, 8, 8, 8, 12, 20, 3]


# --- pure: classification and forecasts -------------------------------------------------------
def test_constant_demand_forecasts_the_constant_with_no_error():
    batch = forecast_demand(np.full((1, 90), 5.0))

    stats = batch.stats(0)
    assert stats.method == METHOD_SES
    assert stats.mean == pytest.approx(5.0, abs=1e-6)
    assert stats.sigma == pytest.approx(0.0, abs=1e-6)
    assert stats.mae == pytest.approx(0.0, abs=1e-6)
    assert stats.mape == pytest.approx(0.0, abs=1e-6)


def test_syntetos_boylan_figures_match_a_hand_computation():
    # Given 2 leading empty days, then demand 3, 6, 3 every third day over 9 days
    series = [0, 0, 3, 0, 0, 6, 0, 0, 3, 0, 0]
    classes = classify_demand(np.array([series], dtype=float))

    # ADI = 9 days from the first demand / 3 days with demand; sizes mean 4, variance 2
    assert classes.starts[0] == 2
    assert classes.adi[0] == pytest.approx(9 / 3)
    assert classes.cv2[0] == pytest.approx(2 / 16)
    assert classes.intermittent[0]


def test_intermittent_demand_is_forecast_with_tsb():
    rng = np.random.default_rng(7)
    occurs = rng.random(90) < 0.2  # ADI about 5
    series = np.where(occurs, rng.integers(1, 6, 90), 0).astype(float)

    stats = forecast_demand(series[None, :]).stats(0)

    assert stats.method == METHOD_TSB
    assert 0 < stats.mean < series.max()
    assert stats.sigma > 0


def test_erratic_sizes_count_as_intermittent_even_with_daily_demand():
    # Demand every day, but sizes 1 or 20: CV² ≈ 0.8 ≥ 0.49
    series = np.array([1, 20] * 45, dtype=float)

    classes = classify_demand(series[None, :])
    assert classes.adi[0] == pytest.approx(1.0)
    assert classes.cv2[0] >= forecasting.CV2_CUTOFF
    assert forecast_demand(series[None, :]).stats(0).method == METHOD_TSB


def test_smooth_weekly_pattern_is_forecast_with_the_pattern():
    series = np.array(WEEK * 13, dtype=float)[:90]  # day 90 is the 7th weekday again: 90 % 7 = 6

    batch = forecast_demand(series[None, :], horizon=7)

    assert batch.stats(0).method == METHOD_SEASONAL_ES
    expected_next_week = [WEEK[(90 + offset) % 7] for offset in range(7)]
    assert batch.forecast[0] == pytest.approx(expected_next_week, abs=1e-6)
    assert batch.mean[0] == pytest.approx(sum(WEEK) / 7, abs=1e-6)


def test_no_demand_and_new_products_get_plain_figures():
    matrix = np.zeros((2, 30))
    matrix[1, -2:] = [3, 5]  # launched two days ago

    batch = forecast_demand(matrix)

    assert batch.stats(0) == DemandStats.no_demand()
    assert batch.stats(1).method == METHOD_MEAN
    assert batch.stats(1).mean == pytest.approx(4.0)
    assert batch.stats(1).sigma == pytest.approx(1.0)


def test_many_series_are_forecast_in_one_call_in_input_order():
    matrix = np.vstack([np.full(60, float(level)) for level in (1, 9, 4, 0, 7)])

    batch = forecast_demand(matrix)

    assert batch.mean == pytest.approx([1, 9, 4, 0, 7], abs=1e-6)


def test_forecast_accuracy_matches_a_hand_computation():
    # errors 1, 1, 3 → MAE 5/3; MAPE over days with demand: (1/2 + 3/4) / 2 = 62.5 %
    mae, mape = forecast_accuracy(np.array([2, 0, 4]), np.array([1, 1, 1]))

    assert mae == pytest.approx(5 / 3)
    assert mape == pytest.approx(62.5)
    assert forecast_accuracy(np.array([0, 0]), np.array([1, 1])) == (pytest.approx(1.0), None)


def test_in_sample_errors_are_one_step_ahead_errors():
    # A step from 2 to 6 with alpha optimised: every error is measured against the forecast of
    # the previous day, so MAE equals the mean of |y_t - fitted_t| over the fitted days.
    series = np.array([2.0] * 20 + [6.0] * 20)
    batch = forecast_demand(series[None, :])

    stats = batch.stats(0)
    assert stats.method == METHOD_SES
    assert stats.mae is not None and 0 < stats.mae < 4
    assert stats.mean == pytest.approx(6.0, abs=0.5)


# --- the ledger query ------------------------------------------------------------------------
def ship(product, warehouse, day: date, quantity: int, hour: int = 12) -> None:
    """A shipment ledger row on a past day (the services stamp `now`; history needs the past)."""
    moment = timezone.make_aware(datetime.combine(day, time(hour)))
    StockMovement.objects.create(
        product=product, warehouse=warehouse, kind=MovementKind.SHIPMENT, quantity=-quantity,
        balance_after=0, reference="test", created_at=moment, hash="test",
    )


@pytest.mark.django_db
def test_daily_demand_stats_reads_shipments_per_product_and_warehouse():
    product, other = ProductFactory(), ProductFactory()
    north, south = WarehouseFactory(), WarehouseFactory()
    for offset in range(1, 61):
        ship(product, north, AS_OF - timedelta(days=offset), 4)
    ship(other, south, AS_OF - timedelta(days=3), 9)
    ship(product, north, AS_OF, 100)  # today: incomplete, not part of the history

    stats = daily_demand_stats(
        product_warehouse_pairs=[(product.pk, north.pk), (other.pk, south.pk), (product.pk, south.pk)],
        history_days=60, as_of=AS_OF,
    )

    assert stats[(product.pk, north.pk)].mean == pytest.approx(4.0, abs=1e-6)
    assert stats[(product.pk, north.pk)].sigma == pytest.approx(0.0, abs=1e-6)
    assert stats[(other.pk, south.pk)].method in (METHOD_MEAN, METHOD_TSB)
    assert stats[(product.pk, south.pk)] == DemandStats.no_demand()


@pytest.mark.django_db
def test_daily_demand_stats_without_pairs_covers_every_pair_that_shipped():
    product = ProductFactory()
    warehouse = WarehouseFactory()
    ship(product, warehouse, AS_OF - timedelta(days=1), 2)
    ship(product, warehouse, AS_OF - timedelta(days=1), 3, hour=23)  # same local day, summed
    ship(product, warehouse, AS_OF - timedelta(days=200), 50)  # outside the window

    stats = daily_demand_stats(history_days=30, as_of=AS_OF)

    assert list(stats) == [(product.pk, warehouse.pk)]
    assert stats[(product.pk, warehouse.pk)].mean == pytest.approx(5.0)


@pytest.mark.django_db
def test_daily_demand_stats_ignores_receipts_and_adjustments():
    product = ProductFactory()
    warehouse = WarehouseFactory()
    stock.stock_receive(product=product, warehouse=warehouse, quantity=10, reference="po")
    stock.stock_reserve(lines=[StockLine(product.pk, warehouse.pk, 4)])
    stock.stock_issue_for_shipment(lines=[StockLine(product.pk, warehouse.pk, 4)], reference="SO-1")

    # The service stamps today; as of tomorrow, today is history.
    tomorrow = timezone.localdate() + timedelta(days=1)
    stats = daily_demand_stats(product_warehouse_pairs=[(product.pk, warehouse.pk)], history_days=5, as_of=tomorrow)

    assert stats[(product.pk, warehouse.pk)].mean == pytest.approx(4.0)


@pytest.mark.django_db
def test_forecast_vs_actual_compares_a_holdout_and_looks_ahead():
    product = ProductFactory()
    north, south = WarehouseFactory(), WarehouseFactory()
    for offset in range(1, 91 + 28):
        ship(product, north, AS_OF - timedelta(days=offset), 3)
    for offset in range(1, 29):  # the last four weeks sell 2 more a day in the south
        ship(product, south, AS_OF - timedelta(days=offset), 2)

    per_warehouse = forecast_vs_actual(product_id=product.pk, warehouse_id=north.pk, days=28, horizon=14, as_of=AS_OF)
    overall = forecast_vs_actual(product_id=product.pk, days=28, horizon=14, as_of=AS_OF)

    assert len(per_warehouse.points) == 28 + 14
    assert per_warehouse.points[0].day == AS_OF - timedelta(days=28)
    assert per_warehouse.points[27].day == AS_OF - timedelta(days=1)
    assert per_warehouse.points[28].day == AS_OF and per_warehouse.points[28].actual is None
    assert per_warehouse.mae == pytest.approx(0.0, abs=1e-6)
    assert per_warehouse.mape == pytest.approx(0.0, abs=1e-6)
    # All warehouses: the holdout was fitted on 3/day, the four weeks sold 5/day → MAE 2, MAPE 40 %
    assert overall.warehouse_id is None
    assert overall.points[0].actual == 5
    assert overall.mae == pytest.approx(2.0, abs=1e-6)
    assert overall.mape == pytest.approx(40.0, abs=1e-4)
    chart = overall.chart_data()
    assert len(chart["labels"]) == len(chart["actual"]) == len(chart["forecast"]) == 42
    assert chart["actual"][-1] is None


@pytest.mark.django_db
def test_forecast_vs_actual_of_a_product_without_history_is_flat_zero():
    product = ProductFactory()

    comparison = forecast_vs_actual(product_id=product.pk, as_of=AS_OF, days=7, horizon=7)

    assert comparison.method == METHOD_NONE
    assert comparison.mae == 0 and comparison.mape is None
    assert all(point.forecast == 0 for point in comparison.points)


def test_direct_model_calls_match_the_statsforecast_dataframe_api():
    import pandas as pd
    from statsforecast import StatsForecast

    rng = np.random.default_rng(3)
    matrix = np.vstack([
        rng.poisson(6, 60), np.array(WEEK * 9, dtype=float)[:60] + rng.integers(0, 2, 60),
        np.where(rng.random(60) < 0.2, rng.integers(1, 5, 60), 0),
    ]).astype(float)
    batch = forecast_demand(matrix, horizon=7)

    for row, method in enumerate(batch.methods):
        history = matrix[row, batch.classification.starts[row]:]  # from the first day with demand
        frame = pd.DataFrame({"unique_id": 0, "ds": np.arange(history.size), "y": history})
        expected = StatsForecast(models=[forecasting._model(method)], freq=1, n_jobs=1).forecast(df=frame, h=7)
        assert batch.forecast[row] == pytest.approx(expected["forecast"].to_numpy(), abs=1e-9), method
    assert set(batch.methods) == {METHOD_SES, METHOD_SEASONAL_ES, METHOD_TSB}
