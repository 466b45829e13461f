"""The replenishment formulas against hand-computed cases (no database)."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import pytest

from suppliers import planning
from suppliers.statuses import PolicyMethod


def test_z_score_matches_the_normal_table():
    assert planning.z_score(Decimal("0.95")) == pytest.approx(1.6449, abs=1e-4)
    assert planning.z_score(0.99) == pytest.approx(2.3263, abs=1e-4)
    assert planning.z_score(0.5) == pytest.approx(0.0, abs=1e-12)


def test_safety_stock_is_z_times_sigma_times_root_lead_time():
    # z(0.95) = 1.6449, sigma = 4/day, L = 9 days -> 1.6449 * 4 * 3 = 19.74
    assert planning.safety_stock(service_level=0.95, sigma_daily=4, lead_time_days=9) == pytest.approx(19.739, abs=1e-3)


def test_safety_stock_adds_lead_time_variability_when_measured():
    # sqrt(9 * 16 + 10^2 * 2^2) = sqrt(544) = 23.324; * 1.6449 = 38.365
    value = planning.safety_stock(service_level=0.95, sigma_daily=4, lead_time_days=9, mean_daily=10, lead_time_sigma=2)
    assert value == pytest.approx(1.6449 * math.sqrt(544), abs=1e-2)


def test_reorder_point_policy_levels_hand_computed():
    # mean 10/day, sigma 4, L = 9, 95 %: SS = 19.74 -> 20; ROP = 90 + 19.74 = 109.74 -> 110;
    # review 7 days -> order up to 110 + 70 = 180.
    levels = planning.policy_levels(
        method=PolicyMethod.REORDER_POINT, min_quantity=0, max_quantity=0, service_level=Decimal("0.95"),
        review_period_days=7, mean_daily=10, sigma_daily=4, lead_time_days=9,
    )
    assert levels == planning.PolicyLevels(reorder_level=110, order_up_to=180, safety_stock=20)


def test_reorder_point_policy_respects_minimum_and_maximum_floors():
    levels = planning.policy_levels(
        method=PolicyMethod.REORDER_POINT, min_quantity=25, max_quantity=300, service_level=Decimal("0.9"),
        review_period_days=7, mean_daily=1, sigma_daily=0, lead_time_days=5,
    )
    assert levels.reorder_level == 25  # computed 5 < minimum 25
    assert levels.order_up_to == 300  # 25 + 7 < maximum 300


def test_min_max_orders_up_to_max_at_or_below_min():
    levels = planning.policy_levels(
        method=PolicyMethod.MIN_MAX, min_quantity=10, max_quantity=50, service_level=Decimal("0.95"),
        review_period_days=7, mean_daily=0, sigma_daily=0, lead_time_days=10,
    )
    assert planning.quantity_needed(position=10, levels=levels) == 40
    assert planning.quantity_needed(position=11, levels=levels) == 0
    assert planning.quantity_needed(position=-5, levels=levels) == 55


def test_inventory_position_counts_supply_and_open_demand():
    assert planning.inventory_position(available=20, on_order=25, backordered=7) == 38


@pytest.mark.parametrize(
    ("need", "moq", "pack", "expected"),
    [(7, 1, 1, 7), (7, 20, 1, 20), (7, 1, 12, 12), (25, 20, 12, 36), (24, 20, 12, 24), (7, 50, 12, 60), (0, 10, 5, 0)],
)
def test_order_quantity_is_rounded_up_to_moq_then_whole_packs(need, moq, pack, expected):
    assert planning.round_order_quantity(need, minimum_order_quantity=moq, pack_size=pack) == expected


def test_unit_cost_takes_the_highest_price_break_reached():
    breaks = ((100, Decimal("9.00")), (500, Decimal("8.00")))
    assert planning.unit_cost_for(99, base_cost=Decimal("10"), price_breaks=breaks) == Decimal("10")
    assert planning.unit_cost_for(100, base_cost=Decimal("10"), price_breaks=breaks) == Decimal("9.00")
    assert planning.unit_cost_for(800, base_cost=Decimal("10"), price_breaks=breaks) == Decimal("8.00")


def _candidate(supplier_id, cost, **fields):
    return planning.Candidate(supplier_id=supplier_id, supplier_product_id=supplier_id * 10, cost=Decimal(cost), **fields)


def test_price_break_makes_the_dearer_list_price_the_cheaper_choice():
    # need 100: A = 100 x 2.00 = 200; B lists 2.50 but 1.80 from 100 units = 180 -> B
    plain = _candidate(1, "2.00")
    with_break = _candidate(2, "2.50", price_breaks=((100, Decimal("1.80")),))
    choice = planning.choose_supplier([plain, with_break], 100)
    assert choice.candidate.supplier_id == 2
    assert choice.unit_cost == Decimal("1.80")
    assert choice.landed_total == Decimal("180.00")
    # below the break A is cheaper
    assert planning.choose_supplier([plain, with_break], 99).candidate.supplier_id == 1


def test_landed_cost_and_moq_count_in_the_comparison():
    # need 10: A 1.00 but MOQ 1000 -> 1000.00; B 2.00 + 10 % landed -> 22.00
    big_moq = _candidate(1, "1.00", minimum_order_quantity=1000)
    landed = _candidate(2, "2.00", landed_cost_percent=Decimal("10"))
    assert planning.choose_supplier([big_moq, landed], 10).candidate.supplier_id == 2


def test_preferred_supplier_wins_over_price_and_ties_go_to_the_fastest():
    cheap = _candidate(1, "1.00", lead_time_days=30)
    fast = _candidate(2, "1.00", lead_time_days=5)
    preferred = _candidate(3, "5.00", preferred=True)
    assert planning.choose_supplier([cheap, fast], 10).candidate.supplier_id == 2
    assert planning.choose_supplier([cheap, fast, preferred], 10).candidate.supplier_id == 3
    assert planning.choose_supplier([cheap, fast, preferred], 10, preferred_supplier_id=1).candidate.supplier_id == 1


def test_offers_are_compared_in_the_base_currency_and_unconvertible_ones_come_last():
    # need 10: A 50 CNY each = 500 CNY; B 10 USD each at 7.2 = 720 CNY; C 5 EUR each, no rate
    cny = _candidate(1, "50.00", currency="CNY", rate_to_base=Decimal("1"))
    usd = _candidate(2, "10.00", currency="USD", rate_to_base=Decimal("7.2"))
    eur = _candidate(3, "5.00", currency="EUR")
    choice = planning.choose_supplier([usd, eur, cny], 10)
    assert choice.candidate.supplier_id == 1 and choice.landed_base == Decimal("500.00")
    assert planning.price_choice(usd, 10).landed_base == Decimal("720.00")
    # a cheaper rate makes the USD offer win; without any rate the known-cost offers still win
    assert planning.choose_supplier([replace(usd, rate_to_base=Decimal("4")), cny], 10).candidate.supplier_id == 2
    assert planning.choose_supplier([eur, usd], 10).candidate.supplier_id == 2
    # only unconvertible offers: compared within one currency (never 5 EUR against 6 GBP)
    assert planning.choose_supplier([eur, _candidate(4, "4.00", currency="EUR")], 10).candidate.supplier_id == 4
