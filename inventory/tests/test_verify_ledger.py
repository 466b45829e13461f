"""The ledger is append-only (DB trigger) and `verify_ledger` finds anything changed behind its back."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, InternalError, connection, transaction

from inventory import services
from inventory.models import StockMovement
from inventory.selectors import verify_ledger
from inventory.services import movement_hash
from inventory.tests.factories import ProductFactory, WarehouseFactory
from tests.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]
TRIGGER = "inventory_stockmovement_no_update_delete"
IMMUTABLE_ERRORS = (IntegrityError, InternalError)


@pytest.fixture
def ledger(db):
    """One stock row with four movements (receive 10, adjust -2, receive 5, adjust -1)."""
    product, warehouse = ProductFactory(sku="LEDGER-1"), WarehouseFactory(code="LED")
    services.stock_receive(product=product, warehouse=warehouse, quantity=10, reference="PO-1")
    services.stock_adjust(product=product, warehouse=warehouse, quantity=-2, reason="damaged")
    services.stock_receive(product=product, warehouse=warehouse, quantity=5, reference="PO-2")
    services.stock_adjust(product=product, warehouse=warehouse, quantity=-1, reason="lost")
    return list(StockMovement.objects.filter(product=product, warehouse=warehouse).order_by("id"))


def run_verify_ledger() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def behind_the_apps_back(sql: str, params: list) -> None:
    """A raw write with the immutability trigger switched off (what an attacker or a bad script does)."""
    with connection.cursor() as cursor:
        # ALTER TABLE refuses while deferred FK checks of this test's inserts are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE inventory_stockmovement DISABLE TRIGGER {TRIGGER}")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute(f"ALTER TABLE inventory_stockmovement ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_movements_cannot_be_updated_through_the_orm(ledger):
    with pytest.raises(IMMUTABLE_ERRORS), transaction.atomic():
        StockMovement.objects.filter(pk=ledger[0].pk).update(quantity=11)
    assert StockMovement.objects.get(pk=ledger[0].pk).quantity == 10


def test_movements_cannot_be_saved_again(ledger):
    movement = ledger[1]
    movement.reason = "rewritten"
    with pytest.raises(IMMUTABLE_ERRORS), transaction.atomic():
        movement.save()


def test_movements_cannot_be_deleted(ledger):
    with pytest.raises(IMMUTABLE_ERRORS), transaction.atomic():
        StockMovement.objects.filter(pk=ledger[-1].pk).delete()
    assert StockMovement.objects.count() == 4


def test_movements_cannot_be_changed_with_raw_sql(ledger):
    with pytest.raises(IMMUTABLE_ERRORS), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stockmovement SET quantity = 99 WHERE id = %s", [ledger[0].pk])
    with pytest.raises(IMMUTABLE_ERRORS), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_stockmovement WHERE id = %s", [ledger[0].pk])


def test_verify_ledger_passes_on_clean_data(ledger):
    code, out, err = run_verify_ledger()
    assert code == 0
    assert "LEDGER drifts=0" in out
    assert err == ""


def test_verify_ledger_names_the_first_broken_row_after_a_raw_update_of_a_movement(ledger):
    # given the second movement's quantity changed behind the app's back
    tampered = ledger[1]
    behind_the_apps_back("UPDATE inventory_stockmovement SET quantity = -1 WHERE id = %s", [tampered.pk])
    # when
    code, _out, err = run_verify_ledger()
    # then the command fails and names exactly that movement as the first broken link
    assert code == 1
    assert f"hash chain broken at movement {tampered.pk}" in err
    assert "on_hand 12 ≠ sum of movements 13" in err
    drifts = verify_ledger()
    assert [d.movement_id for d in drifts if d.movement_id] == [tampered.pk]


def test_verify_ledger_catches_a_changed_reference_that_keeps_the_sums_right(ledger):
    tampered = ledger[2]
    behind_the_apps_back("UPDATE inventory_stockmovement SET reference = 'PO-FAKE' WHERE id = %s", [tampered.pk])
    code, _out, err = run_verify_ledger()
    assert code == 1
    assert f"hash chain broken at movement {tampered.pk}" in err
    assert "sum of movements" not in err


def test_verify_ledger_catches_a_rewritten_row_whose_hash_was_recomputed(ledger):
    # given a forger who changes a movement and recomputes its own hash consistently
    tampered = ledger[1]
    forged_hash = movement_hash(
        ledger[0].hash, product_id=tampered.product_id, warehouse_id=tampered.warehouse_id, kind=tampered.kind,
        quantity=-1, balance_after=9, reference=tampered.reference, created_at=tampered.created_at,
    )
    behind_the_apps_back(
        "UPDATE inventory_stockmovement SET quantity = -1, balance_after = 9, hash = %s WHERE id = %s",
        [forged_hash, tampered.pk],
    )
    # then the next row no longer links to it
    code, _out, err = run_verify_ledger()
    assert code == 1
    assert f"at movement {ledger[2].pk}" in err


def test_verify_ledger_reports_a_raw_update_of_on_hand_as_drift(ledger):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_stocklevel SET on_hand = on_hand + 3 WHERE product_id = %s AND warehouse_id = %s",
            [ledger[0].product_id, ledger[0].warehouse_id],
        )
    code, out, err = run_verify_ledger()
    assert code == 1
    assert "on_hand 15 ≠ sum of movements 12" in err
    assert "LEDGER drifts=1" in out


def test_verify_ledger_reports_a_deleted_movement(ledger):
    behind_the_apps_back("DELETE FROM inventory_stockmovement WHERE id = %s", [ledger[-1].pk])
    code, _out, err = run_verify_ledger()
    assert code == 1
    assert "on_hand 12 ≠ sum of movements 13" in err


@pytest.mark.django_db(transaction=True)
def test_verify_ledger_command_exits_1_on_drift_in_a_real_process(ledger):
    """`python3 -m scoms manage verify_ledger` is manage.py in the project's environment: run it for real."""
    # a TCP host or, under the launcher's embedded PostgreSQL, a socket directory
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "DJANGO_SETTINGS_MODULE": "scoms.settings"}

    def verify() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "verify_ledger"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=120,
        )

    clean = verify()
    assert clean.returncode == 0, clean.stderr
    assert "LEDGER drifts=0" in clean.stdout
    behind_the_apps_back("UPDATE inventory_stockmovement SET quantity = -1 WHERE id = %s", [ledger[1].pk])
    broken = verify()
    assert broken.returncode == 1
    assert f"hash chain broken at movement {ledger[1].pk}" in broken.stderr
