"""Purchase order PDF (WeasyPrint) and the e-mail that carries it to the supplier.

Both run in a Celery task after the sending transaction committed: no database lock is held
while rendering or talking to the mail server.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

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
        "printed_at": timezone.localtime(),
    }


def render_purchase_order_html(purchase_order: PurchaseOrder) -> str:
    return render_to_string("suppliers/pdf/purchase_order.html", purchase_order_context(purchase_order))


def render_purchase_order_pdf(purchase_order: PurchaseOrder) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    html = render_purchase_order_html(purchase_order)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def email_purchase_order(*, purchase_order: PurchaseOrder) -> bool:
    """Send the PO with its PDF to the supplier's address; False when it has none."""
    supplier = purchase_order.supplier
    if not supplier.email:
        PurchaseOrderEvent.objects.create(
            purchase_order=purchase_order, kind=PurchaseOrderEventKind.NOTE,
            message=_("Not e-mailed: the supplier has no e-mail address."),
        )
        return False
    with translation.override(settings.LANGUAGE_CODE):
        pdf = render_purchase_order_pdf(purchase_order)
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
