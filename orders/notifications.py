"""Customer e-mails about their orders (order confirmation and the status changes customers care about)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from orders.models import SalesOrder
from orders.statuses import OrderStatus

CUSTOMER_EMAIL_STATUSES = {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.BACKORDERED}


def tracking_url(order: SalesOrder) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("track", args=[order.tracking_token])


def send_order_confirmation(order: SalesOrder) -> None:
    send_mail(
        subject=_("Your order %(number)s") % {"number": order.number},
        message=_("Thank you for your order %(number)s. Follow it here: %(url)s")
        % {"number": order.number, "url": tracking_url(order)},
        from_email=None,
        recipient_list=[order.customer.email],
        fail_silently=False,
    )


def status_changed(order: SalesOrder, from_status: str, to_status: str) -> None:
    if to_status in CUSTOMER_EMAIL_STATUSES:
        send_mail(
            subject=_("Order %(number)s: %(status)s") % {"number": order.number, "status": OrderStatus(to_status).label},
            message=_("Your order %(number)s is now %(status)s. Follow it here: %(url)s")
            % {"number": order.number, "status": OrderStatus(to_status).label, "url": tracking_url(order)},
            from_email=None,
            recipient_list=[order.customer.email],
            fail_silently=False,
        )
