"""Channels, customers, sales orders with their lines, allocations and event timeline."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from core.limits import MAX_NOTES_LENGTH
from core.validators import validate_country_code, validate_currency_code, validate_planned_date
from orders.statuses import AllocationStrategy, ChannelKind, EventKind, OrderStatus


class NextOrderNumber(models.Func):
    """'SO-0000001' from a database sequence: gap-tolerant, never duplicated, no extra query."""

    # core.numbering: pads to 7 digits, never truncates.
    template = "scoms_next_number('SO-', 'orders_salesorder_number_seq')"
    output_field = models.CharField()

    def __init__(self) -> None:
        super().__init__()


def new_tracking_token() -> str:
    return secrets.token_urlsafe(16)


class Channel(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices, default=ChannelKind.WEB)
    allocation_strategy = models.CharField(
        _("allocation strategy"), max_length=20, choices=AllocationStrategy.choices,
        default=AllocationStrategy.PRIORITY,
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="customer_email_ci_unique")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Address(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="addresses"
    )
    name = models.CharField(_("recipient"), max_length=200, blank=True)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, default="CN", validators=[validate_country_code])
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="address_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="address_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return ", ".join(part for part in [self.line1, self.city, self.country] if part)


class SalesOrderQuerySet(models.QuerySet):
    def open(self) -> SalesOrderQuerySet:
        from orders.statuses import OPEN_STATUSES

        return self.filter(status__in=OPEN_STATUSES)


class SalesOrder(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, db_default=NextOrderNumber())
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    ship_to = models.ForeignKey(Address, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    status_before_hold = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY", validators=[validate_currency_code])
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    allow_backorder = models.BooleanField(_("allow backorder"), default=True)
    allocation_strategy = models.CharField(
        _("allocation strategy"), max_length=20, choices=AllocationStrategy.choices,
        default=AllocationStrategy.PRIORITY,
    )
    requested_date = models.DateField(_("requested date"), null=True, blank=True, validators=[validate_planned_date])
    promised_date = models.DateField(_("promised date"), null=True, blank=True)
    tracking_token = models.CharField(max_length=32, unique=True, default=new_tracking_token, editable=False)
    hold_reason = models.CharField(_("hold reason"), max_length=255, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=MAX_NOTES_LENGTH)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SalesOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-created_at", "-id"]
        # Warehouse staff move orders through the floor without the right to edit or cancel them.
        permissions = [("fulfil_salesorder", _("Can pick, ship and deliver orders"))]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_ref"], condition=~Q(external_ref=""),
                name="salesorder_channel_external_ref",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="salesorder_total_nonnegative"),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="salesorder_created_idx"),
            models.Index(fields=["status", "-created_at"], name="salesorder_status_idx"),
            models.Index(fields=["channel", "-created_at"], name="salesorder_channel_idx"),
            models.Index(fields=["customer", "-created_at"], name="salesorder_customer_idx"),
            # the portal's "sort by total" keyset pages (orders.selectors.ORDER_SORTS)
            models.Index(fields=["total", "id"], name="salesorder_total_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField(_("line"))
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity_allocated = models.PositiveIntegerField(_("allocated"), default=0)
    quantity_shipped = models.PositiveIntegerField(_("shipped"), default=0)
    quantity_cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    quantity_backordered = models.GeneratedField(
        expression=F("quantity") - F("quantity_allocated") - F("quantity_shipped") - F("quantity_cancelled"),
        output_field=models.IntegerField(),
        db_persist=True,
        verbose_name=_("backordered"),
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="orderline_order_line_no"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_unit_price_nonnegative"),
            models.CheckConstraint(
                condition=Q(
                    quantity__gte=F("quantity_allocated") + F("quantity_shipped") + F("quantity_cancelled")
                ),
                name="orderline_quantities_within_ordered",
            ),
        ]
        indexes = [
            models.Index(
                fields=["product", "order"], name="orderline_backordered_idx",
                condition=Q(quantity_backordered__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.quantity_shipped - self.quantity_cancelled


class Allocation(models.Model):
    """Units of one order line reserved in one warehouse. `quantity` is still reserved;
    `quantity_shipped` has left. Σ quantity over a stock row equals its `reserved`."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="allocations")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="allocations")
    quantity = models.PositiveIntegerField(_("reserved"), default=0)
    quantity_shipped = models.PositiveIntegerField(_("shipped"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.UniqueConstraint(fields=["line", "warehouse"], name="allocation_line_warehouse"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}@{self.warehouse_id}: {self.quantity}"


class OrderEvent(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    from_status = models.CharField(_("from"), max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=OrderStatus.choices, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="orderevent_order_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.to_status}"
