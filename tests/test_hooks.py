"""core.hooks: lower apps declare hook points, higher apps fill them in ready(), and
`manage hooks` lists every point with who fills it, in order."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from core import hooks
from inventory import hooks as inventory_hooks


def command_output() -> list[str]:
    out = StringIO()
    call_command("hooks", stdout=out)
    return out.getvalue().splitlines()


def test_hooks_command_lists_every_point_with_its_kind_doc_and_fillers_in_order():
    lines = command_output()

    for point in hooks.points():
        header = f"{point.qualified_name}  [{point.kind}, declared by {point.app}]"
        assert header in lines
        at = lines.index(header)
        assert lines[at + 1].strip() == point.signature and lines[at + 2].strip() == point.doc
    at = lines.index("inventory.stock_arrived  [handlers, declared by inventory]")
    assert lines[at + 3].strip() == "1. orders.handlers.offer_stock_to_backorders"
    at = lines.index("core.demo_seeders  [handlers, declared by core]")
    assert [line.strip() for line in lines[at + 3 : at + 6]] == [
        "1. inventory.demo.seed", "2. orders.demo.seed", "3. suppliers.demo.seed",
    ]
    at = lines.index("core.dashboard_tiles  [providers, declared by core]")
    assert lines[at + 5].strip() == "3. suppliers.selectors.dashboard_tiles  section=purchasing"


def test_every_former_registry_is_a_declared_point():
    names = {point.qualified_name for point in hooks.points()}

    assert {
        "inventory.stock_arrived", "inventory.expected_supply_dates", "inventory.open_demand",
        "inventory.supply_changed", "inventory.low_stock", "inventory.product_panels",
        "core.dashboard_tiles", "core.demo_seeders",
    } <= names


def test_a_point_nobody_fills_is_listed_as_not_filled():
    with hooks.isolated(inventory_hooks.SUPPLY_CHANGED):
        lines = command_output()

    at = lines.index("inventory.supply_changed  [handlers, declared by inventory]")
    assert lines[at + 3].strip() == "(not filled)"


def test_handlers_run_in_fill_order_and_a_second_fill_of_the_same_function_is_ignored():
    calls = []

    def first(product_ids):
        calls.append(("first", product_ids))

    def second(product_ids):
        calls.append(("second", product_ids))

    with hooks.isolated(inventory_hooks.STOCK_ARRIVED):
        hooks.fill(inventory_hooks.STOCK_ARRIVED, first)
        hooks.fill(inventory_hooks.STOCK_ARRIVED, second)
        hooks.fill(inventory_hooks.STOCK_ARRIVED, first)  # ready() run again

        inventory_hooks.stock_arrived([7, 7])

        assert [filler.function for filler in inventory_hooks.STOCK_ARRIVED.fillers()] == [first, second]
    assert calls == [("first", {7}), ("second", {7})]


def test_provider_answers_are_combined_by_the_declaring_module():
    def two_units(product_ids):
        return {1: 2}

    def three_units(product_ids):
        return {1: 3, 2: 1}

    with hooks.isolated(inventory_hooks.OPEN_DEMAND):
        hooks.fill(inventory_hooks.OPEN_DEMAND, two_units)
        hooks.fill(inventory_hooks.OPEN_DEMAND, three_units)

        assert inventory_hooks.open_demand([1, 2]) == {1: 5, 2: 1}


def test_filling_an_undeclared_point_is_refused():
    undeclared = hooks.HookPoint(app="inventory", name="stock_vanished", kind=hooks.HANDLERS,
                                 signature="(product_ids) -> None", doc="never declared")

    with pytest.raises(ImproperlyConfigured, match="not a declared hook point"):
        hooks.fill(undeclared, print)
    with pytest.raises(ImproperlyConfigured, match="not a declared hook point"):
        hooks.fill("inventory.stock_arrived", print)


def test_filling_without_the_options_the_point_declares_is_refused():
    def tiles(user):
        return []

    with hooks.isolated(hooks.DASHBOARD_TILES):
        with pytest.raises(ImproperlyConfigured, match="section"):
            hooks.fill(hooks.DASHBOARD_TILES, tiles)
        with pytest.raises(ImproperlyConfigured, match="section"):
            hooks.fill(hooks.DASHBOARD_TILES, tiles, section="orders", colour="red")

        assert hooks.DASHBOARD_TILES.fillers() == ()


def test_declaring_a_point_twice_is_refused():
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        hooks.declare(app="inventory", name="stock_arrived", kind=hooks.HANDLERS, signature="()", doc="again")


def test_a_handler_point_has_no_results_and_a_provider_point_is_not_called():
    with pytest.raises(TypeError):
        inventory_hooks.STOCK_ARRIVED.results({1})
    with pytest.raises(TypeError):
        inventory_hooks.OPEN_DEMAND.call({1})
