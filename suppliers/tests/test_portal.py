"""Purchasing portal pages and the supplier login's isolation (404 on other suppliers' orders)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.models import JobRun, OutboxMessage
from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers import planner, services
from suppliers.models import PurchaseOrder, PurchaseOrderLine
from suppliers.statuses import PurchaseOrderStatus
from suppliers.tasks import run_replenishment_task
from suppliers.tests.factories import ReorderPolicyFactory, SupplierFactory, offer, sent_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_suppliers():
    warehouse = WarehouseFactory(code="WH")
    mine, theirs = SupplierFactory(code="mine"), SupplierFactory(code="theirs")
    product = ProductFactory(sku="SHARED")
    offer(product, mine)
    offer(product, theirs)
    return {
        "warehouse": warehouse, "mine": mine, "theirs": theirs, "product": product,
        "my_po": sent_order(mine, warehouse, (product, 5)),
        "their_po": sent_order(theirs, warehouse, (product, 7)),
    }


@pytest.fixture
def supplier_client(client, make_user, two_suppliers):
    user = make_user("Supplier")
    services.supplier_user_link(user=user, supplier=two_suppliers["mine"])
    client.force_login(user)
    return client


def test_beat_schedule_contains_the_replenishment_jobs():
    tasks = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "suppliers.tasks.run_replenishment_task" in tasks
    kwargs = [e.get("kwargs", {}) for e in settings.CELERY_BEAT_SCHEDULE.values()
              if e["task"] == "suppliers.tasks.run_replenishment_task"]
    assert {k["job"] for k in kwargs} == {"replenishment.nightly", "replenishment.critical"}


def test_purchasing_user_sees_every_page(client, make_user, two_suppliers):
    client.force_login(make_user("Purchasing"))
    po, supplier = two_suppliers["my_po"], two_suppliers["mine"]
    urls = [
        reverse("suppliers:supplier_list"), reverse("suppliers:supplier_detail", args=[supplier.pk]),
        reverse("suppliers:supplier_edit", args=[supplier.pk]), reverse("suppliers:supplier_create"),
        reverse("suppliers:supplier_product_create", args=[supplier.pk]),
        reverse("suppliers:purchase_order_list"), reverse("suppliers:purchase_order_detail", args=[po.pk]),
        reverse("suppliers:purchase_order_create"), reverse("suppliers:purchase_order_receive", args=[po.pk]),
        reverse("suppliers:suggestion_list"), reverse("suppliers:scorecard_ranking"),
        reverse("suppliers:purchase_order_list") + "?status=sent&overdue=true&q=SHARED",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    # the PDF is rendered by a worker: the first answer is "being prepared"
    assert client.get(reverse("suppliers:purchase_order_pdf", args=[po.pk])).status_code == 202


def test_supplier_user_lists_only_their_own_orders(supplier_client, two_suppliers):
    response = supplier_client.get(reverse("suppliers:purchase_order_list"))

    assert response.status_code == 200
    numbers = [po.number for po in response.context["page"]]
    assert numbers == [two_suppliers["my_po"].number]
    assert two_suppliers["their_po"].number not in response.content.decode()


def test_supplier_user_gets_404_for_another_suppliers_order(supplier_client, two_suppliers):
    other = two_suppliers["their_po"]
    line = other.lines.get()

    assert supplier_client.get(reverse("suppliers:purchase_order_detail", args=[other.pk])).status_code == 404
    assert supplier_client.get(reverse("suppliers:purchase_order_pdf", args=[other.pk])).status_code == 404
    response = supplier_client.post(reverse("suppliers:purchase_order_acknowledge", args=[other.pk]),
                                    {f"date_{line.pk}": "2099-01-01"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == PurchaseOrderStatus.SENT
    # filtering by the other supplier's id shows nothing of theirs either
    listing = supplier_client.get(reverse("suppliers:purchase_order_list"), {"supplier": two_suppliers["theirs"].pk})
    assert other.number not in listing.content.decode()


def test_supplier_user_is_refused_staff_pages(supplier_client, two_suppliers):
    po = two_suppliers["my_po"]
    forbidden = [
        reverse("suppliers:supplier_list"), reverse("suppliers:supplier_detail", args=[two_suppliers["mine"].pk]),
        reverse("suppliers:purchase_order_create"), reverse("suppliers:purchase_order_receive", args=[po.pk]),
        reverse("suppliers:suggestion_list"), reverse("suppliers:scorecard_ranking"),
    ]
    for url in forbidden:
        assert supplier_client.get(url).status_code == 403, url
    assert supplier_client.post(reverse("suppliers:purchase_order_action", args=[po.pk, "cancel"]),
                                {"reason": "x"}).status_code == 403
    assert supplier_client.post(reverse("suppliers:replenishment_run")).status_code == 403


def test_supplier_user_acknowledges_and_confirms_dates(supplier_client, two_suppliers):
    po = two_suppliers["my_po"]
    line = po.lines.get()
    promised = timezone.localdate() + timedelta(days=6)

    response = supplier_client.post(reverse("suppliers:purchase_order_acknowledge", args=[po.pk]),
                                    {f"date_{line.pk}": promised.isoformat()})

    assert response.status_code == 302
    po.refresh_from_db()
    line.refresh_from_db()
    assert po.status == PurchaseOrderStatus.ACKNOWLEDGED
    assert line.confirmed_date == promised


def test_supplier_user_never_sees_drafts(supplier_client, two_suppliers):
    draft = services.purchase_order_create(
        supplier=two_suppliers["mine"], warehouse=two_suppliers["warehouse"],
        lines=[services.PurchaseOrderLineInput(product="SHARED", quantity=1)],
    ).purchase_order

    assert supplier_client.get(reverse("suppliers:purchase_order_detail", args=[draft.pk])).status_code == 404


def test_receive_form_books_a_partial_receipt(client, make_user, two_suppliers):
    client.force_login(make_user("Warehouse"))
    po = two_suppliers["my_po"]
    line = po.lines.get()

    response = client.post(reverse("suppliers:purchase_order_receive", args=[po.pk]),
                           {f"line_{line.pk}": "2", "delivery_note": "DN-1"})

    assert response.status_code == 302
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED


def test_receive_form_shows_the_over_receipt_error(client, make_user, two_suppliers):
    client.force_login(make_user("Warehouse"))
    po = two_suppliers["my_po"]
    line = po.lines.get()

    response = client.post(reverse("suppliers:purchase_order_receive", args=[po.pk]), {f"line_{line.pk}": "9"})

    assert response.status_code == 200
    assert "at most 5 are allowed" in response.content.decode()
    line.refresh_from_db()
    assert line.quantity_received == 0


def test_create_form_makes_a_draft(client, make_user, two_suppliers):
    client.force_login(make_user("Purchasing"))
    data = {
        "supplier": two_suppliers["mine"].pk, "warehouse": two_suppliers["warehouse"].pk, "notes": "",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1", "lines-MAX_NUM_FORMS": "200",
        "lines-0-sku": "SHARED", "lines-0-quantity": "12", "lines-0-unit_cost": "",
    }

    response = client.post(reverse("suppliers:purchase_order_create"), data)

    assert response.status_code == 302
    created = PurchaseOrder.objects.filter(status=PurchaseOrderStatus.DRAFT).get()
    assert created.lines.get().quantity == 12


def test_suggestions_are_approved_from_the_portal(client, make_user, two_suppliers):
    ReorderPolicyFactory(product=two_suppliers["product"], warehouse=WarehouseFactory(code="NEW"),
                         min_quantity=10, max_quantity=20)
    planner.run_replenishment()
    draft = PurchaseOrder.objects.get(status=PurchaseOrderStatus.DRAFT)
    client.force_login(make_user("Purchasing"))

    page = client.get(reverse("suppliers:suggestion_list"))
    assert draft.number in page.content.decode()
    response = client.post(reverse("suppliers:suggestion_approve"), {"purchase_order": [draft.pk]})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == PurchaseOrderStatus.SENT
    assert not PurchaseOrderLine.objects.filter(suggestion=True).exists()


def test_run_button_enqueues_a_job_and_the_status_fragment_polls_until_done(client, make_user):
    client.force_login(make_user("Purchasing"))

    response = client.post(reverse("suppliers:replenishment_run"))

    run = JobRun.objects.get(job="replenishment.manual")
    assert response.status_code == 302
    assert OutboxMessage.objects.filter(task_name="suppliers.tasks.run_replenishment_task",
                                        kwargs__job_run_id=run.pk).exists()
    fragment = client.get(reverse("suppliers:replenishment_run_status", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in fragment.content.decode()

    from suppliers.jobs import execute_replenishment_run

    execute_replenishment_run(job_run_id=run.pk)
    fragment = client.get(reverse("suppliers:replenishment_run_status", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert "every 2s" not in fragment.content.decode()
    assert "Planner run finished" in fragment.content.decode()


def test_purchase_order_pages_use_constant_queries(client, make_user, two_suppliers, django_assert_max_num_queries):
    client.force_login(make_user("Purchasing"))
    for n in range(6):
        product = ProductFactory(sku=f"MANY-{n}")
        offer(product, two_suppliers["mine"])
    many = sent_order(two_suppliers["mine"], two_suppliers["warehouse"],
                      *[(ProductFactory(sku=f"MANY-{n}"), 2) for n in range(6)])
    services.purchase_order_receive(
        purchase_order=many, lines=[services.ReceiptLineInput(line_id=line.pk, quantity=1) for line in many.lines.all()]
    )

    with django_assert_max_num_queries(20):
        assert client.get(reverse("suppliers:purchase_order_detail", args=[many.pk])).status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(reverse("suppliers:purchase_order_list")).status_code == 200


def test_supplier_user_gets_403_or_404_on_every_purchasing_route_with_other_ids(supplier_client, two_suppliers):
    """Walks every URL pattern of the purchasing app, filling ids with the other supplier's."""
    from suppliers.urls import urlpatterns

    other = two_suppliers["their_po"]
    ids = {"pk": other.pk, "supplier_pk": two_suppliers["theirs"].pk, "action": "send"}
    own_pages = {"index", "purchase_order_list"}
    checked = 0
    for pattern in urlpatterns:
        if pattern.name in own_pages:
            continue
        kwargs = {name: ids[name] for name in pattern.pattern.converters}
        url = reverse(f"suppliers:{pattern.name}", kwargs=kwargs)
        for method in ("get", "post"):
            status = getattr(supplier_client, method)(url).status_code
            assert status in (403, 404, 405), (method, url, status)
            checked += 1
    other.refresh_from_db()
    assert other.status == PurchaseOrderStatus.SENT
    assert checked >= 30


def test_run_replenishment_command_ends_with_the_summary_line(two_suppliers):
    from io import StringIO

    from django.core.management import call_command

    ReorderPolicyFactory(product=two_suppliers["product"], warehouse=WarehouseFactory(code="CMD"),
                         min_quantity=1, max_quantity=10)
    out = StringIO()

    call_command("run_replenishment", stdout=out)
    call_command("run_replenishment", stdout=out)

    lines = out.getvalue().strip().splitlines()
    assert lines[1] == "REPLENISHMENT created_pos=1 created_lines=1"
    assert lines[-1] == "REPLENISHMENT created_pos=0 created_lines=0"


def test_scorecards_show_on_time_in_full_and_otif_on_the_supplier_page_and_the_ranking(client, make_user):
    # given two lines received: one on time and in full, one late and short
    warehouse, supplier = WarehouseFactory(), SupplierFactory(code="scored", name="Scored Supplies")
    early, late = ProductFactory(), ProductFactory()
    offer(early, supplier)
    offer(late, supplier)
    po = sent_order(supplier, warehouse, (early, 10), (late, 10))
    today = timezone.localdate()
    on_time, overdue = po.lines.get(product=early), po.lines.get(product=late)
    services.purchase_order_confirm_dates(purchase_order=po, dates={on_time.pk: today, overdue.pk: today})
    PurchaseOrderLine.objects.filter(pk=overdue.pk).update(confirmed_date=today - timedelta(days=5))
    services.purchase_order_receive(purchase_order=po, lines=[
        services.ReceiptLineInput(line_id=on_time.pk, quantity=10),
        services.ReceiptLineInput(line_id=overdue.pk, quantity=6),
    ])
    client.force_login(make_user("Purchasing"))

    # when purchasing opens the supplier and the ranking
    pages = [client.get(reverse("suppliers:supplier_detail", args=[supplier.pk])),
             client.get(reverse("suppliers:scorecard_ranking"))]

    # then both show 2 lines measured, 50 % on time, 50 % in full, 50 % OTIF
    for page in pages:
        html = "".join(page.content.decode().split())  # whitespace aside
        assert page.status_code == 200
        assert ('<tdclass="text-end">2</td><tdclass="text-end">50.0&nbsp;%</td><tdclass="text-end">50.0&nbsp;%</td>'
                '<tdclass="text-end">50.0&nbsp;%</td>') in html


def test_the_run_buttons_outbox_message_is_processed_once_the_run_is_done(client, make_user):
    # given the portal's run enqueued through the outbox
    client.force_login(make_user("Purchasing"))
    client.post(reverse("suppliers:replenishment_run"))
    message = OutboxMessage.objects.get(task_name=run_replenishment_task.name)

    # when a worker runs the delivered message
    run_replenishment_task(**message.kwargs, _outbox_id=message.pk)

    # then the run is done and the relay will not publish the message again
    message.refresh_from_db()
    assert JobRun.objects.get(pk=message.kwargs["job_run_id"]).finished_at is not None
    assert message.processed_at is not None
