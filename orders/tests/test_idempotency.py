"""Idempotency-Key on POST /api/v1/orders/ (and cancel): Stripe-like replay, 422, 409, per-user scope."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.idempotency import request_fingerprint
from core.models import IdempotencyRecord
from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from orders.models import SalesOrder
from orders.tests.factories import ChannelFactory, api_order_body, place
from tests.conftest import ROOT, child_env, database_url, wait_until

ORDERS = "/api/v1/orders/"


def client_for(user) -> APIClient:
    token, _created = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def operator(make_user):
    return make_user("Operations")


@pytest.fixture
def stock(db):
    ChannelFactory(code="web")
    warehouse = WarehouseFactory(code="WH1", priority=1)
    product = ProductFactory(sku="SKU-0001", list_price=Decimal("25.00"))
    give_stock(product, warehouse, 100)
    return {"warehouse": warehouse, "product": product}


def post_order(client: APIClient, body, key: str | None = "key-1", path: str = ORDERS):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def reserved() -> int:
    return sum(StockLevel.objects.values_list("reserved", flat=True))


def test_same_key_twice_creates_one_order_and_replays_the_first_response(operator, stock):
    client = client_for(operator)

    first = post_order(client, api_order_body())
    second = post_order(client, api_order_body())

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert SalesOrder.objects.count() == 1
    assert reserved() == 2


def test_replay_ignores_key_order_and_spacing_of_the_json_body(operator, stock):
    client = client_for(operator)
    first = post_order(client, api_order_body())
    reordered = json.dumps(dict(reversed(list(api_order_body().items()))), indent=4)

    again = client.post(ORDERS, data=reordered, content_type="application/json", headers={"Idempotency-Key": "key-1"})

    assert again.status_code == 201 and again.content == first.content
    assert SalesOrder.objects.count() == 1


def test_same_key_with_another_body_is_422_and_creates_nothing(operator, stock):
    client = client_for(operator)
    first = post_order(client, api_order_body())

    other = post_order(client, api_order_body(lines=[{"sku": "SKU-0001", "quantity": 3}]))

    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key"
    assert SalesOrder.objects.count() == 1
    assert reserved() == 2


def test_same_key_on_another_endpoint_is_422(operator, stock):
    client = client_for(operator)
    order = place(("SKU-0001", 1)).order
    assert post_order(client, api_order_body()).status_code == 201

    response = post_order(client, {}, path=f"{ORDERS}{order.pk}/cancel/")

    assert response.status_code == 422
    order.refresh_from_db()
    assert order.status == "allocated"


def test_same_key_while_the_first_request_is_in_flight_is_409(operator, stock):
    body = api_order_body()
    request = RequestFactory().post(ORDERS, data=json.dumps(body), content_type="application/json")
    # The first request holds the key: its IN_PROGRESS claim is committed, its response not yet.
    IdempotencyRecord.objects.create(
        user=operator, key="key-1", method="POST", path=ORDERS, request_hash=request_fingerprint(request)
    )

    response = post_order(client_for(operator), body)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert not SalesOrder.objects.exists()


def test_keys_are_scoped_per_user(make_user, stock):
    ada, bob = make_user("Operations"), make_user("Operations")

    first = post_order(client_for(ada), api_order_body())
    second = post_order(client_for(bob), api_order_body())

    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert SalesOrder.objects.count() == 2
    assert IdempotencyRecord.objects.filter(key="key-1").count() == 2


def test_a_refused_request_stores_nothing_so_the_key_can_be_retried(operator, stock):
    client = client_for(operator)

    refused = post_order(client, api_order_body(lines=[{"sku": "NOPE", "quantity": 1}]))
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.exists()

    fixed = post_order(client, api_order_body())
    assert fixed.status_code == 201
    assert SalesOrder.objects.count() == 1


def test_an_out_of_stock_409_is_not_stored_so_a_retry_after_a_receipt_succeeds(operator, stock):
    client = client_for(operator)
    body = api_order_body(allow_backorder=False, lines=[{"sku": "SKU-0001", "quantity": 150}])

    short = post_order(client, body)
    give_stock(stock["product"], stock["warehouse"], 50)
    retry = post_order(client, body)

    assert short.status_code == 409 and short.json()["code"] == "insufficient_stock"
    assert retry.status_code == 201
    assert reserved() == 150


def test_an_expired_key_is_treated_as_new(operator, stock):
    client = client_for(operator)
    first = post_order(client, api_order_body())
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))

    again = post_order(client, api_order_body(lines=[{"sku": "SKU-0001", "quantity": 1}]))

    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert SalesOrder.objects.count() == 2


def test_a_key_still_within_24_hours_replays(operator, stock):
    client = client_for(operator)
    first = post_order(client, api_order_body())
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=23))

    again = post_order(client, api_order_body())

    assert again.status_code == 201 and again.content == first.content
    assert SalesOrder.objects.count() == 1


def test_an_abandoned_in_progress_claim_is_taken_over_after_the_stale_timeout(operator, stock, settings):
    settings.IDEMPOTENCY_STALE_SECONDS = 60
    body = api_order_body()
    request = RequestFactory().post(ORDERS, data=json.dumps(body), content_type="application/json")
    record = IdempotencyRecord.objects.create(
        user=operator, key="key-1", method="POST", path=ORDERS, request_hash=request_fingerprint(request)
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(minutes=2))

    response = post_order(client_for(operator), body)

    assert response.status_code == 201
    assert IdempotencyRecord.objects.get().state == IdempotencyRecord.State.DONE


def test_an_external_ref_retry_under_a_new_key_returns_200_and_is_replayed_as_such(operator, stock):
    client = client_for(operator)
    first = post_order(client, api_order_body(external_ref="W-7"), key="a")

    second = post_order(client, api_order_body(external_ref="W-7"), key="b")
    replay = post_order(client, api_order_body(external_ref="W-7"), key="b")

    assert first.status_code == 201
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert replay.status_code == 200 and replay.content == second.content
    assert SalesOrder.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "k" * 256, "bad\u0007key"])
def test_an_unusable_key_is_400_naming_the_header(operator, stock, key):
    response = post_order(client_for(operator), api_order_body(), key=key)

    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"
    assert not SalesOrder.objects.exists()


def test_cancel_with_the_same_key_twice_replays_instead_of_409(operator, stock):
    client = client_for(operator)
    order = place(("SKU-0001", 4)).order
    path = f"{ORDERS}{order.pk}/cancel/"

    first = post_order(client, {"reason": "duplicate"}, key="cancel-1", path=path)
    second = post_order(client, {"reason": "duplicate"}, key="cancel-1", path=path)
    plain_retry = post_order(client, {"reason": "duplicate"}, key=None, path=path)

    assert first.status_code == 200 and second.status_code == 200
    assert second.content == first.content
    assert plain_retry.status_code == 409
    assert reserved() == 0


@pytest.mark.django_db(transaction=True)
def test_sixteen_simultaneous_requests_with_one_key_create_one_order(make_user, stock):
    operator = make_user("Operations")
    token = Token.objects.create(user=operator)
    threads_count = 16
    barrier = threading.Barrier(threads_count)
    results: list[tuple[int, bytes]] = []
    errors: list[Exception] = []
    lock = threading.Lock()
    payload = json.dumps(api_order_body(external_ref=""))

    def worker() -> None:
        try:
            client = APIClient()  # not thread-safe: one per thread
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            barrier.wait(timeout=30)
            response = client.post(
                ORDERS, data=payload, content_type="application/json", headers={"Idempotency-Key": "same"}
            )
            with lock:
                results.append((response.status_code, response.content))
        except Exception as exc:  # noqa: BLE001 - handed to the main thread, which fails the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert len(results) == threads_count
    statuses = [status for status, _content in results]
    assert set(statuses) <= {201, 409}, statuses
    created_bodies = {content for status, content in results if status == 201}
    assert len(created_bodies) == 1
    assert SalesOrder.objects.count() == 1
    assert reserved() == 2
    record = IdempotencyRecord.objects.get()
    assert record.state == IdempotencyRecord.State.DONE
    assert record.response_body.encode() == created_bodies.pop()


# A web process that posts one order with Idempotency-Key "key-1", then blocks (its statement
# waits on a stock row lock the test holds) until the test kills it.
_DOOMED_REQUEST = """
import json, django
django.setup()
from rest_framework.test import APIClient
client = APIClient()
client.credentials(HTTP_AUTHORIZATION="Token " + {token!r})
client.post("/api/v1/orders/", data={body!r}, content_type="application/json", headers={{"Idempotency-Key": "key-1"}})
"""


@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_web_process_died_is_taken_over_as_soon_as_its_session_ends(make_user, stock):
    operator = make_user("Operations")
    token = Token.objects.create(user=operator)
    level = StockLevel.objects.get(product=stock["product"])
    url = database_url(connection.settings_dict)

    # Given a web process that has claimed the key and waits on a stock row another transaction holds
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as admin:
        holder.execute("SELECT id FROM inventory_stocklevel WHERE id = %s FOR UPDATE", [level.pk])
        doomed = subprocess.Popen(
            [sys.executable, "-c", _DOOMED_REQUEST.format(token=token.key, body=json.dumps(api_order_body()))],
            cwd=ROOT, env=child_env(DATABASE_URL=url, DEBUG="1", ALLOWED_HOSTS="testserver"),
        )

        def waiting_backend() -> int | None:
            row = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            ).fetchone()
            return row[0] if row else None

        try:
            pid = wait_until(waiting_backend, timeout=30)
            # When the process is killed (OOM, a gunicorn timeout) before it answered
            doomed.kill()
            doomed.wait(timeout=15)
        finally:
            if doomed.poll() is None:
                doomed.kill()
        holder.rollback()
        # its PostgreSQL session ends as soon as it next reads from the dead client
        wait_until(lambda: not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone(),
                   timeout=15)
    assert not SalesOrder.objects.exists()  # its transaction died with it
    assert IdempotencyRecord.objects.get().state == IdempotencyRecord.State.IN_PROGRESS  # nobody cleaned up

    # Then the client's retry with the same key is served at once, not refused for minutes
    retry = post_order(client_for(operator), api_order_body())
    assert retry.status_code == 201, retry.content
    assert SalesOrder.objects.count() == 1
    assert IdempotencyRecord.objects.get().state == IdempotencyRecord.State.DONE
    assert post_order(client_for(operator), api_order_body()).content == retry.content  # and replayed
