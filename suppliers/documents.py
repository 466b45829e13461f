"""Purchase order PDF (WeasyPrint) and the e-mail that carries it to the supplier.

PDFs are rendered only in Celery tasks and cached by the hash of their HTML (core.documents):
the portal's PDF view serves the cached document or asks a worker for it
(`purchase_order_pdf_or_request`); the e-mail task uses the same cache (`purchase_order_pdf`).
No database lock is held while rendering or talking to the mail server.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import documents
from suppliers import tasks
from suppliers.models import PurchaseOrder, PurchaseOrderEvent
from suppliers.statuses import PurchaseOrderEventKind


def purchase_order_context(purchase_order: PurchaseOrder) -> dict:
    lines = list(purchase_order.lines.select_related("product").order_by("line_no"))
    return {
        "po": purchase_order,
        "lines": lines,
        "total": sum((line.amount for line in lines), start=Decimal("0")),
        "company_name": settings.COMPANY_NAME,
        "company_address": settings.COMPANY_ADDRESS,
        "terms": settings.PURCHASE_ORDER_TERMS,
    }


def render_purchase_order_html(purchase_order: PurchaseOrder) -> str:
    return render_to_string("suppliers/pdf/purchase_order.html", purchase_order_context(purchase_order))


def render_purchase_order_pdf(purchase_order: PurchaseOrder) -> bytes:
    """Render now, uncached (seconds for a few hundred lines: only in a worker)."""
    return _pdf_from_html(render_purchase_order_html(purchase_order))


def _pdf_from_html(html: str) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def _html_and_key(purchase_order: PurchaseOrder, language: str) -> tuple[str, str]:
    # The HTML holds everything printed (lines, supplier, terms, language, template), so its
    # hash changes whenever the PDF would; it holds no clock, so it stays put otherwise.
    with translation.override(language):
        html = render_purchase_order_html(purchase_order)
    return html, documents.document_key(source=html)


def purchase_order_pdf_or_request(*, purchase_order: PurchaseOrder, language: str) -> bytes | None:
    """For a web request: the cached PDF, or None after asking a worker to render it."""
    _html, key = _html_and_key(purchase_order, language)
    return documents.request_document(
        key=key, task=tasks.render_purchase_order_pdf_task,
        kwargs={"purchase_order_id": purchase_order.pk, "language": language},
    )


def purchase_order_pdf(*, purchase_order: PurchaseOrder, language: str) -> bytes:
    """For a worker: the cached PDF, rendered and stored first when there is none."""
    html, key = _html_and_key(purchase_order, language)
    pdf = documents.ready_document(key=key)
    if pdf is None:
        pdf = _pdf_from_html(html)
        documents.store_document(key=key, content=pdf)
    return pdf


def email_purchase_order(*, purchase_order: PurchaseOrder) -> bool:
    """Send the PO with its PDF to the supplier's address; False when it has none."""
    supplier = purchase_order.supplier
    if not supplier.email:
        PurchaseOrderEvent.objects.create(
            purchase_order=purchase_order, kind=PurchaseOrderEventKind.NOTE,
            message=_("Not e-mailed: the supplier has no e-mail address."),
        )
        return False
    pdf = purchase_order_pdf(purchase_order=purchase_order, language=settings.LANGUAGE_CODE)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Purchase order %(number)s from %(company)s") % {
            "number": purchase_order.number, "company": settings.COMPANY_NAME,
        }
        body = render_to_string("suppliers/email/purchase_order.txt", {"po": purchase_order,
                                                                      "company_name": settings.COMPANY_NAME})
    message = EmailMessage(subject=subject, body=body, to=[supplier.email])
    message.attach(f"{purchase_order.number}.pdf", pdf, "application/pdf")
    message.send(fail_silently=False)
    now = timezone.now()
    PurchaseOrder.objects.filter(pk=purchase_order.pk).update(emailed_at=now)
    PurchaseOrderEvent.objects.create(
        purchase_order=purchase_order, kind=PurchaseOrderEventKind.EMAILED,
        message=_("E-mailed to %(address)s.") % {"address": supplier.email},
    )
    return True
