"""R11 — PostgreSQL unreachable during order intake and during a task.

The outage is real: a TCP proxy (tests.reliability_helpers.TcpProxy) stands between the test
database and the processes under test — a gunicorn server with two workers, a Celery worker —
and `cut()` closes every relayed connection and refuses new ones, as a crashed or restarting
PostgreSQL does. The test process itself talks to PostgreSQL directly, so it can look at the
database while the server cannot.

Proved here:
- during the outage API clients get 503 + Retry-After + `{"code": "database_unavailable"}`
  quickly (never a 500, never a hang) and people get a small 503 page;
- after the database is back the same server processes answer 201 again, without a restart;
- nothing is half-written: every order has its lines, allocations, events and outbox message,
  the invariant check is green, and a client that retries its 503s by external_ref ends with
  exactly one order per reference;
- a task whose connection dies mid-transaction is retried and, once the database is back,
  runs exactly once (one e-mail, outbox message processed); so does the replenishment job
  (its slot finishes once, one PO line per need).

`OUTAGE_SECONDS` sets how long the database stays away (RELIABILITY.md says 30 s; the suite
uses a few seconds — the behaviour does not change with the length, only the number of 503s).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from core import outbox
from core.middleware import DatabaseUnavailableMiddleware, is_database_unavailable
from core.models import JobRun, OutboxMessage
from orders.models import SalesOrder
from orders.tests.factories import place
from suppliers import jobs
from suppliers.tasks import run_replenishment_task
from tests.conftest import free_port, wait_until
from tests.reliability_helpers import (
    EMAIL_BACKEND,
    NEEDS,
    ORDERS_URL,
    Answer,
    CeleryWorker,
    ServerProcess,
    TcpProxy,
    api_token,
    assert_one_line_per_need,
    assert_orders_whole,
    order_body,
    planner_held,
    planner_waiting_on_its_lock,
    policies_below_reorder_level,
    sent_subjects,
    stock_for_intake,
)

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE_SECONDS = float(os.environ.get("SCOMS_TEST_OUTAGE_SECONDS", "3"))
CLIENTS = 3
# A 503 must come well before gunicorn's 30 s worker timeout: the connect attempt is refused at
# once, and DB_CONNECT_TIMEOUT (2 s for the server here) bounds a connect that is not answered.
FAST_ENOUGH_SECONDS = 10


@pytest.fixture
def database_proxy(transactional_db: None) -> TcpProxy:
    proxy = TcpProxy.for_database(connection.settings_dict)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def server(database_proxy: TcpProxy, private_redis, tmp_path: Path) -> ServerProcess:
    """gunicorn (2 workers) whose DATABASE_URL goes through the proxy; stopped before teardown."""
    process = ServerProcess(
        log_path=tmp_path / "gunicorn.log",
        DATABASE_URL=database_proxy.database_url(connection.settings_dict),
        REDIS_URL=private_redis.url,
        DB_CONNECT_TIMEOUT="2",
    )
    yield process
    process.stop()


def test_database_outage_during_order_intake_answers_503_and_recovers_without_half_written_orders(
    make_user, database_proxy, server, outage_seconds: float = OUTAGE_SECONDS
):
    # Given a server taking orders, and a logged-in portal user
    stock_for_intake()
    user = make_user("Operations", username="intake")
    auth = api_token(user)
    browser = Client()
    browser.force_login(user)
    session_cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    server.start()
    assert server.request("POST", ORDERS_URL, body=order_body("warm-up"), headers=auth).status == 201
    assert server.request("GET", "/", headers=session_cookie).status == 200

    # When clients keep placing orders while the database goes away and comes back
    answers: list[tuple[str, float, Answer]] = []
    stop = threading.Event()

    def client(number: int) -> None:
        sequence = 0
        while not stop.is_set():
            reference = f"C{number}-{sequence}"
            started = time.monotonic()
            answer = server.request("POST", ORDERS_URL, body=order_body(reference), headers=auth)
            answers.append((reference, started, answer))
            sequence += 1
            if answer.status != 201:
                time.sleep(0.2)  # a real client backs off a little

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: sum(a.status == 201 for _r, _s, a in answers) >= 10, timeout=20)
        cut_at = time.monotonic()
        database_proxy.cut()
        wait_until(lambda: sum(a.status == 503 for _r, s, a in answers if s > cut_at) >= 5, timeout=20)
        page = server.request("GET", "/", headers=session_cookie)
        json_page = server.request("GET", "/orders/", headers={**session_cookie, "Accept": "application/json"})
        time.sleep(max(0.0, outage_seconds - (time.monotonic() - cut_at)))
        restored_at = time.monotonic()
        database_proxy.restore()
        wait_until(lambda: sum(a.status == 201 for _r, s, a in answers if s > restored_at) >= 10, timeout=20)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    # Then nothing was a 500 or a dropped connection: orders were created or refused with 503
    statuses = Counter(answer.status for _r, _s, answer in answers)
    assert set(statuses) <= {201, 503}, (statuses, server.output()[-4000:])
    outage = [answer for _r, started, answer in answers if cut_at + 0.5 < started < restored_at - 0.5]
    assert outage and all(answer.status == 503 for answer in outage), Counter(a.status for a in outage)
    for _reference, _started, answer in answers:
        if answer.status == 503:
            assert answer.json()["code"] == "database_unavailable"
            assert answer.json()["detail"]
            assert int(answer.headers["retry-after"]) > 0
            assert answer.seconds < FAST_ENOUGH_SECONDS
    # And people got a page, JSON clients JSON, both 503
    assert page.status == 503 and page.headers["content-type"].startswith("text/html"), page
    assert b"503" in page.body and "retry-after" in page.headers
    assert json_page.status == 503 and json_page.json()["code"] == "database_unavailable"
    # And the same two gunicorn workers recovered on their own (none was restarted)
    assert server.output().count("Booting worker") == 2
    assert server.request("GET", "/", headers=session_cookie).status == 200

    # When the clients retry every 503 with the same external_ref
    refused = [reference for reference, _started, answer in answers if answer.status == 503]
    retried = Counter(
        server.request("POST", ORDERS_URL, body=order_body(reference), headers=auth).status for reference in refused
    )
    # Then each gets its order (200 when the first attempt committed but its answer was lost)
    assert set(retried) <= {200, 201}, retried
    server.stop()
    references = {reference for reference, _started, _answer in answers} | {"warm-up"}
    assert sorted(SalesOrder.objects.values_list("external_ref", flat=True)) == sorted(references)
    assert_orders_whole()


@pytest.mark.worker
def test_task_whose_database_connection_dies_mid_transaction_is_retried_and_runs_once(
    database_proxy, private_redis, private_celery_app, test_database_url, tmp_path,
    outage_seconds: float = OUTAGE_SECONDS,
):
    # Given an order whose confirmation task is queued, and a worker whose database is the proxy
    stock_for_intake()
    first = place(("REL-0001", 1), external_ref="task-1").order
    message = OutboxMessage.objects.get(kwargs__order_id=first.pk)
    outbox.drain(app=private_celery_app)  # in the broker before the worker's relay runs
    message.refresh_from_db()
    assert message.sent_at is not None
    mail = tmp_path / "mail"
    mail.mkdir()
    worker = CeleryWorker(
        database_url=database_proxy.database_url(connection.settings_dict), redis_url=private_redis.url,
        log_path=tmp_path / "worker.log", EMAIL_BACKEND=EMAIL_BACKEND, SCOMS_TEST_EMAIL_DIR=str(mail),
        DB_CONNECT_TIMEOUT="2",
    )
    # ... and another transaction holds the message row, so the task stops inside its
    # transaction: it has claimed nothing and sent nothing yet when the database goes away
    holder = psycopg.connect(test_database_url)
    holder.execute("SELECT id FROM core_outboxmessage WHERE id = %s FOR UPDATE", [message.pk])
    try:
        worker.start()

        def task_waits_on_the_row() -> bool:
            worker.check_alive()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND query LIKE %s AND pid <> pg_backend_pid()", ["%core_outboxmessage%"])
                return cursor.fetchone()[0] == 1

        wait_until(task_waits_on_the_row, timeout=20)

        # When the database goes away mid-task, and another order is placed meanwhile (the
        # worker's relay, also behind the proxy, publishes it once the database is back)
        database_proxy.cut()
        second = place(("REL-0002", 1), external_ref="task-2").order
        wait_until(lambda: worker.output().count("retry: Retry in") >= 2, timeout=20)
        time.sleep(outage_seconds)
    finally:
        holder.rollback()
        holder.close()
    # And comes back
    database_proxy.restore()

    # Then both tasks run, exactly once each: one confirmation e-mail per order
    def processed() -> bool:
        worker.check_alive()
        return not OutboxMessage.objects.filter(processed_at__isnull=True).exists()

    wait_until(processed, timeout=30 + 2 * outage_seconds)  # the retry backoff grows with the outage
    # a redelivered or republished message finds the row processed and does nothing
    private_celery_app.send_task("orders.tasks.order_placed_task",
                                 kwargs={"order_id": first.pk, "_outbox_id": message.pk})
    wait_until(lambda: "already processed" in worker.output(), timeout=15)
    worker.stop()
    assert sorted(sent_subjects(mail)) == sorted(f"Your order {order.number}" for order in (first, second)), \
        worker.output()[-4000:]


@pytest.mark.worker
def test_replenishment_whose_database_goes_away_mid_run_is_retried_and_finishes_once(
    database_proxy, private_redis, private_celery_app, test_database_url, tmp_path,
    outage_seconds: float = OUTAGE_SECONDS,
):
    # Given the nightly replenishment running in a worker whose database is the proxy
    policies_below_reorder_level()
    worker = CeleryWorker(
        database_url=database_proxy.database_url(connection.settings_dict), redis_url=private_redis.url,
        log_path=tmp_path / "worker.log", DB_CONNECT_TIMEOUT="2",
    )
    try:
        with planner_held(test_database_url):  # keeps the run inside its planning transaction
            worker.start()
            private_celery_app.send_task(run_replenishment_task.name, kwargs={"job": jobs.NIGHTLY, "slot": "2026-03-01"})
            wait_until(planner_waiting_on_its_lock, timeout=20)

            # When the database goes away mid-run
            database_proxy.cut()
            wait_until(lambda: "retry: Retry in" in worker.output(), timeout=20)
            time.sleep(outage_seconds)
        # And comes back
        database_proxy.restore()

        # Then the retried task finishes the slot once, with one PO line per need
        def finished() -> bool:
            worker.check_alive()
            return JobRun.objects.filter(job=jobs.NIGHTLY, finished_at__isnull=False).exists()

        wait_until(finished, timeout=60 + 2 * outage_seconds)  # the retry backoff grows with the outage
    finally:
        worker.stop()
    run = JobRun.objects.get(job=jobs.NIGHTLY)
    assert run.result["state"] == "done", (run.result, worker.output()[-3000:])
    assert run.result["created_lines"] == NEEDS
    assert_one_line_per_need()


# --- how the middleware answers (real database errors, no server) ------------------------------
def refused_connection_error() -> OperationalError:
    """The error Django raises when PostgreSQL refuses connections (here: a port nobody serves)."""
    elsewhere = connection.copy()
    elsewhere.settings_dict = {**elsewhere.settings_dict, "HOST": "127.0.0.1", "PORT": str(free_port())}
    with pytest.raises(OperationalError) as caught:
        elsewhere.ensure_connection()
    return caught.value


def statement_timeout_error() -> OperationalError:
    with pytest.raises(OperationalError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")
    return caught.value


def body(response: HttpResponse) -> dict:
    return json.loads(response.content)


def middleware_answer(request, exception) -> HttpResponse | None:
    return DatabaseUnavailableMiddleware(lambda _request: HttpResponse()).process_exception(request, exception)


def test_lost_database_answers_503_json_to_api_clients_and_a_page_to_people(rf):
    error = refused_connection_error()
    assert is_database_unavailable(error)

    api = middleware_answer(rf.post("/api/v1/orders/"), error)
    assert (api.status_code, api["Content-Type"], api["Retry-After"]) == (503, "application/json", "5")
    assert body(api)["code"] == "database_unavailable"

    asked_for_json = middleware_answer(rf.get("/orders/", HTTP_ACCEPT="application/json"), error)
    assert asked_for_json.status_code == 503 and body(asked_for_json)["code"] == "database_unavailable"

    page = middleware_answer(rf.get("/orders/", HTTP_ACCEPT="text/html,*/*"), error)
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    assert b"503" in page.content and page["Retry-After"] == "5"


@pytest.mark.django_db
def test_contention_errors_get_a_short_retry_after_and_their_own_code(rf):
    error = statement_timeout_error()
    assert not is_database_unavailable(error)
    api = middleware_answer(rf.post("/api/v1/orders/"), error)
    assert (api.status_code, api["Retry-After"], body(api)["code"]) == (503, "1", "database_busy")


def test_other_errors_are_left_to_the_usual_handling(rf):
    assert middleware_answer(rf.post("/api/v1/orders/"), IntegrityError("duplicate key")) is None
    assert middleware_answer(rf.post("/api/v1/orders/"), ValueError("a bug")) is None


# --- the database lost after the view, while the session is saved ------------------------------
def _session_then_outage(request):
    """Touch the session, then lose the database connection before the response goes out."""
    request.session["touched"] = True
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    with psycopg.connect(os.environ["SCOMS_TEST_KILLER_URL"], autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [backend])
    return HttpResponse("the view itself succeeded")


urlpatterns = [path("session-then-outage/", _session_then_outage)]


@pytest.mark.urls("tests.test_reliability_database")
def test_database_lost_while_the_session_is_saved_answers_503_not_500(test_database_url, monkeypatch):
    monkeypatch.setenv("SCOMS_TEST_KILLER_URL", test_database_url)
    client = Client(raise_request_exception=False)

    page = client.get("/session-then-outage/", HTTP_ACCEPT="text/html")
    api = client.get("/session-then-outage/", HTTP_ACCEPT="application/json")

    assert (page.status_code, page["Retry-After"]) == (503, "5") and b"503" in page.content
    assert api.status_code == 503 and api.json()["code"] == "database_unavailable"
    # and the next request reconnects on its own
    assert SalesOrder.objects.count() == 0
