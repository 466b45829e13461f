"""Purchase-order PDFs are rendered in a worker and cached by content hash; the view never renders."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Document, OutboxMessage
from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers.tasks import email_purchase_order_task, render_purchase_order_pdf_task
from suppliers.tests.factories import SupplierFactory, offer, sent_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def purchase_order():
    supplier = SupplierFactory(email="orders@acme.example.com")
    product = ProductFactory(sku="PDF-CACHE-1")
    offer(product, supplier, cost="3.00")
    return sent_order(supplier, WarehouseFactory(), (product, 4))


@pytest.fixture
def purchasing_client(client, make_user):
    client.force_login(make_user("Purchasing"))
    return client


def pdf_url(po) -> str:
    return reverse("suppliers:purchase_order_pdf", args=[po.pk])


def run_render_messages() -> int:
    """Run every pending render message the way a worker does (claiming its outbox row)."""
    messages = list(OutboxMessage.objects.filter(task_name=render_purchase_order_pdf_task.name, processed_at__isnull=True))
    for message in messages:
        render_purchase_order_pdf_task(**message.kwargs, _outbox_id=message.pk)
    return len(messages)


def test_pdf_view_without_a_cached_document_answers_202_and_asks_a_worker_once(purchasing_client, purchase_order):
    # when the PDF is asked for twice before any worker ran
    first = purchasing_client.get(pdf_url(purchase_order))
    second = purchasing_client.get(pdf_url(purchase_order))
    # then both answers are "being prepared" pages that reload themselves, nothing was rendered,
    # and one render task waits in the outbox
    for response in (first, second):
        assert response.status_code == 202
        assert response["Retry-After"] == "2"
        assert response["Content-Type"].startswith("text/html")
        assert 'http-equiv="refresh"' in response.content.decode()
        assert purchase_order.number in response.content.decode()
    assert not Document.objects.filter(content__isnull=False).exists()
    assert OutboxMessage.objects.filter(task_name=render_purchase_order_pdf_task.name).count() == 1


def test_pdf_view_serves_the_document_the_render_task_stored(purchasing_client, purchase_order):
    # given the view asked for the PDF and the worker's task ran
    assert purchasing_client.get(pdf_url(purchase_order)).status_code == 202
    assert run_render_messages() == 1
    # when the page reloads
    response = purchasing_client.get(pdf_url(purchase_order))
    # then it gets the PDF the task rendered
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert bytes(Document.objects.get().content) == response.content
    assert f'filename="{purchase_order.number}.pdf"' in response["Content-Disposition"]


def test_a_changed_purchase_order_gets_a_new_document(purchasing_client, purchase_order):
    # given the PDF of the purchase order is cached
    purchasing_client.get(pdf_url(purchase_order))
    run_render_messages()
    assert purchasing_client.get(pdf_url(purchase_order)).status_code == 200
    # when something printed on it changes
    purchase_order.notes = "Deliver to gate 3."
    purchase_order.save(update_fields=["notes"])
    # then the cached PDF is not served: a new one is prepared under another key
    assert purchasing_client.get(pdf_url(purchase_order)).status_code == 202
    assert run_render_messages() == 1
    response = purchasing_client.get(pdf_url(purchase_order))
    assert response.status_code == 200
    assert Document.objects.filter(content__isnull=False).count() == 2
    assert len(set(Document.objects.values_list("key", flat=True))) == 2


def test_the_email_task_attaches_the_cached_pdf(purchasing_client, purchase_order, mailoutbox, settings):
    # given the PDF was rendered for the portal in the language e-mails use
    settings.LANGUAGE_CODE = "en"
    purchasing_client.get(pdf_url(purchase_order), HTTP_ACCEPT_LANGUAGE="en")
    run_render_messages()
    cached = bytes(Document.objects.get().content)
    # when the PO is e-mailed
    assert email_purchase_order_task(purchase_order.pk) is True
    # then the attachment is the cached document, not a second rendering
    assert mailoutbox[-1].attachments[0][1] == cached
    assert Document.objects.count() == 1


def test_the_email_task_leaves_its_pdf_for_the_portal(purchasing_client, purchase_order, mailoutbox, settings):
    # given the PO was e-mailed first (rendered in the e-mail task)
    settings.LANGUAGE_CODE = "en"
    assert email_purchase_order_task(purchase_order.pk) is True
    # when the portal asks for the PDF in the same language
    response = purchasing_client.get(pdf_url(purchase_order), HTTP_ACCEPT_LANGUAGE="en")
    # then it is served at once, without another render task
    assert response.status_code == 200
    assert response.content == mailoutbox[-1].attachments[0][1]
    assert not OutboxMessage.objects.filter(task_name=render_purchase_order_pdf_task.name).exists()
