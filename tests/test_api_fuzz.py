"""R19: schemathesis fuzzes every operation of the served OpenAPI schema against the real app.

Positive and negative data (schemathesis' examples, coverage and fuzzing phases) for every
operation, in process through the WSGI app, against the test database seeded with a few rows,
authenticated as a user holding the Operations, Warehouse and Purchasing roles (so every
operation runs its code, not only its permission check). Most ids in paths and references in
valid bodies (SKUs, warehouse, supplier and channel codes, purchase-order line ids) are swapped
for seeded ones, so the fuzzer reaches the services — a stock level near the integer column's
limit, a purchase order to receive, an order to cancel — rather than stopping at "unknown SKU".

A share of the valid bodies also gets every quantity and amount at its documented maximum, the
region where sums overflow their columns (quantity times unit cost past a total, on hand past the
integer column) and random values rarely go.

Every answer must be: no 5xx; a status the schema lists for the operation; the content type and
body the schema gives for it (the Error body for errors); invalid data refused. Bounded: a fixed
seed, derandomized, a few dozen examples per operation (FUZZ_MAX_EXAMPLES raises it locally).
"""

from __future__ import annotations

import copy
import hashlib
import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation

from core.idempotency import HEADER
from core.limits import MAX_ORDER_LINE_QUANTITY, MAX_QUANTITY, decimal_max
from core.roles import OPERATIONS, PURCHASING, WAREHOUSE
from inventory import services as stock
from inventory.services import StockLine
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders.models import OrderLine
from orders.tests.factories import ChannelFactory, place
from suppliers import services as purchasing
from suppliers.models import PurchaseOrderLine
from suppliers.tests.factories import SupplierFactory, offer, sent_order
from tests.factories import UserFactory

APP = get_wsgi_application()
# Fixed for CI; FUZZ_SEED / FUZZ_MAX_EXAMPLES explore further by hand.
SEED = int(os.environ.get("FUZZ_SEED", "19"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # positive and negative data
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # NUL is refused everywhere (the input-edge middleware); its own tests cover it.
            "allow-x00": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            # Valid-looking data may still break a business rule (an unknown SKU, too little
            # stock, a date before the order): those are 400/409 by design, so acceptance of
            # every schema-valid body is not a rule of this API. Refusing invalid data is.
            "positive_data_acceptance": {"enabled": False},
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", APP, config=CONFIG)

SEED_SKUS = ["FZ-STOCKED", "FZ-FULL", "FZ-EMPTY"]
SEED_WAREHOUSE = "FZ1"
SEED_SUPPLIER = "fz-sup"
SEED_CHANNEL = "web"
# Planned dates are taken from today to a year ahead (the window is relative to today, which
# a schema cannot state).
DATES = {"requested_date", "expected_date", "confirmed_date"}
# The documented maxima (the schema states the same), by the name of the body field.
MAXIMA = {
    "quantity": MAX_QUANTITY,
    "unit_cost": str(decimal_max(PurchaseOrderLine._meta.get_field("unit_cost"))),
    "unit_price": str(decimal_max(OrderLine._meta.get_field("unit_price"))),
}


@pytest.fixture
def seeded(db) -> dict[str, Any]:
    """A few rows of each kind the API serves, and the ids of each, by the path they appear under."""
    warehouse = WarehouseFactory(code=SEED_WAREHOUSE)
    stocked, full, empty = (ProductFactory(sku=sku, list_price=Decimal("12.50")) for sku in SEED_SKUS)
    give_stock(stocked, warehouse, 500)
    # A stock level a few adjustments short of what its integer column holds.
    stock.stock_receive_many(lines=[StockLine(full.pk, warehouse.pk, MAX_QUANTITY)] * 2147, reference="fuzz")
    ChannelFactory(code=SEED_CHANNEL)
    orders = [place((stocked.sku, 2)).order, place((empty.sku, 1)).order]
    supplier = SupplierFactory(code=SEED_SUPPLIER)
    for product in (stocked, full, empty):
        offer(product, supplier, cost="4.2500")
    draft = purchasing.purchase_order_create(
        supplier=supplier, warehouse=warehouse,
        lines=[purchasing.PurchaseOrderLineInput(product=stocked.pk, quantity=10)],
    ).purchase_order
    sent = sent_order(supplier, warehouse, (stocked, 40), (empty, 5))
    return {
        "/api/v1/products/": [stocked.pk, full.pk, empty.pk],
        "/api/v1/warehouses/": [warehouse.pk],
        "/api/v1/customers/": [order.customer_id for order in orders],
        "/api/v1/orders/": [order.pk for order in orders],
        "/api/v1/suppliers/": [supplier.pk],
        "/api/v1/purchase-orders/": [sent.pk, draft.pk],
        "line_ids": list(sent.lines.values_list("pk", flat=True)),
    }


@pytest.fixture
def token(seeded) -> str:
    user = UserFactory(roles=[OPERATIONS, WAREHOUSE, PURCHASING])
    assert set(user.groups.values_list("name", flat=True)) == {OPERATIONS, WAREHOUSE, PURCHASING}
    return Token.objects.create(user=user).key


@pytest.fixture(autouse=True)
def _requests_share_the_test_transaction():
    # Django closes the database connection at the end of each request; in process, that is the
    # test's connection and transaction. Django's own test client disconnects the same receiver.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _key(value: Any) -> int:
    """A number derived from a generated value: choices made from it repeat with the seed."""
    return len(str(value)) + sum(map(ord, str(value)))


def _pick(choices: list, value: Any) -> Any:
    """A seeded value chosen by the generated one, or None (one time in four) to keep that one."""
    key = _key(value)
    return None if key % 4 == 3 else choices[key % len(choices)]


def _use_seeded_rows(case: Any, seeded: dict[str, Any]) -> None:
    """Point valid cases at seeded rows; invalid parts stay as generated (they must be refused)."""
    meta = case.meta
    if case.path_parameters and "id" in case.path_parameters and not meta.is_negative_at(ParameterLocation.PATH):
        prefix = case.path.split("{id}")[0]
        chosen = _pick(seeded[prefix], case.path_parameters["id"])
        if chosen is not None:
            case.path_parameters["id"] = chosen
    key = (case.headers or {}).get(HEADER)
    if isinstance(key, str) and key and not meta.is_negative_at(ParameterLocation.HEADER) and _key(key) % 4 != 3:
        # Mostly one key per body: the same key with another body is a (correct) 422 that
        # would stop most cases before the view.
        digest = hashlib.sha256(repr(case.body).encode()).hexdigest()[:16]
        case.headers[HEADER] = f"{key[:200]}-{digest}"
    if isinstance(case.body, dict) and not meta.is_negative_at(ParameterLocation.BODY):
        references = {"warehouse": [SEED_WAREHOUSE], "supplier": [SEED_SUPPLIER], "channel": [SEED_CHANNEL]}
        for name, choices in references.items():
            if isinstance(case.body.get(name), str) and (chosen := _pick(choices, case.body[name])) is not None:
                case.body[name] = chosen
        if case.path.startswith("/api/v1/stock/") and isinstance(case.body.get("sku"), str):
            case.body["sku"] = _pick(SEED_SKUS, case.body["sku"]) or case.body["sku"]
        for item in [case.body, *[line for line in case.body.get("lines") or [] if isinstance(line, dict)]]:
            for name in DATES & set(item):
                if isinstance(item[name], str) and _key(item[name]) % 4 != 3:
                    item[name] = (timezone.localdate() + timedelta(days=_key(item[name]) % 365)).isoformat()
        for index, line in enumerate(case.body.get("lines") or []):
            if isinstance(line, dict) and isinstance(line.get("sku"), str):
                # Mostly a different seeded SKU per line: a SKU twice is refused before any sum.
                line["sku"] = _pick(SEED_SKUS[index % 3:] + SEED_SKUS[:index % 3], line["sku"]) or line["sku"]
            if isinstance(line, dict) and isinstance(line.get("line_id"), int):
                line["line_id"] = _pick(seeded["line_ids"], line["line_id"]) or line["line_id"]
        if _key(case.body) % 3 == 0:
            _push_to_limits(case.body, order_line=case.path == "/api/v1/orders/")


def _push_to_limits(body: dict, *, order_line: bool) -> None:
    """Every quantity and amount of a valid body at its maximum (sales-order lines have their own)."""
    for item in [body, *[line for line in body.get("lines") or [] if isinstance(line, dict)]]:
        for name, maximum in MAXIMA.items():
            if item.get(name) is not None and type(item[name]) is type(maximum):
                item[name] = MAX_ORDER_LINE_QUANTITY if name == "quantity" and order_line else maximum


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_answers_as_its_schema_says(case, seeded, token):
    _use_seeded_rows(case, seeded)

    case.call_and_validate(app=APP, headers={"Authorization": f"Token {token}"})


def test_the_fuzz_checks_fail_on_a_status_the_schema_does_not_list(seeded, token):
    """The checks above can fail: the same app against its schema without GET /orders/{id}/'s 404."""
    raw = copy.deepcopy(schema.raw_schema)
    del raw["paths"]["/api/v1/orders/{id}/"]["get"]["responses"]["404"]
    without_404 = schemathesis.openapi.from_dict(raw, config=CONFIG)
    missing = without_404["/api/v1/orders/{id}/"]["GET"].Case(path_parameters={"id": 0})
    present = schema["/api/v1/orders/{id}/"]["GET"].Case(path_parameters={"id": 0})
    headers = {"Authorization": f"Token {token}"}

    present.call_and_validate(app=APP, headers=headers)
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        missing.call_and_validate(app=APP, headers=headers)

