"""Suppliers, their catalogue, purchase orders with receipts, reorder policies, portal links."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.limits import MAX_NOTES_LENGTH, MAX_QUANTITY
from core.validators import validate_country_code, validate_currency_code, validate_planned_date
from inventory.models import Product, Warehouse
from suppliers.statuses import (
    OPEN_STATUSES,
    PolicyMethod,
    PurchaseOrderEventKind,
    PurchaseOrderSource,
    PurchaseOrderStatus,
)


class NextPurchaseOrderNumber(models.Func):
    """'PO-0000001' from a database sequence: never duplicated, no extra query on insert."""

    template = "scoms_next_number('PO-', 'suppliers_purchaseorder_number_seq')"  # core.numbering
    output_field = models.CharField()

    def __init__(self) -> None:
        super().__init__()


class NextReceiptNumber(models.Func):
    template = "scoms_next_number('GR-', 'suppliers_goodsreceipt_number_seq')"  # core.numbering
    output_field = models.CharField()

    def __init__(self) -> None:
        super().__init__()


class SupplierQuerySet(models.QuerySet):
    def active(self) -> SupplierQuerySet:
        return self.filter(active=True)


class Supplier(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True, help_text=_("Purchase orders are sent here."))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True, max_length=MAX_NOTES_LENGTH)
    country = models.CharField(_("country"), max_length=2, default="CN", validators=[validate_country_code])
    currency = models.CharField(_("currency"), max_length=3, default="CNY", validators=[validate_currency_code])
    payment_terms = models.CharField(_("payment terms"), max_length=100, default="30 days net", blank=True)
    default_lead_time_days = models.PositiveSmallIntegerField(
        _("default lead time (days)"), default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    landed_cost_percent = models.DecimalField(
        _("landed cost uplift (%)"), max_digits=6, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Freight, duty and handling on top of the unit cost, used to compare suppliers."),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True, max_length=MAX_NOTES_LENGTH)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SupplierQuerySet.as_manager()

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_lead_time_days__gte=1), name="supplier_lead_time_positive"
            ),
            models.CheckConstraint(
                condition=Q(landed_cost_percent__gte=0), name="supplier_landed_cost_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class SupplierProduct(models.Model):
    """What one supplier sells us of one product, at what cost, in what quantities and how fast."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="supplier_products")
    supplier_sku = models.CharField(_("supplier SKU"), max_length=64, blank=True)
    cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY", validators=[validate_currency_code])
    minimum_order_quantity = models.PositiveIntegerField(
        _("minimum order quantity"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    pack_size = models.PositiveIntegerField(
        _("pack size"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Empty: the supplier's default lead time."),
    )
    preferred = models.BooleanField(_("preferred"), default=False)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("supplier product")
        verbose_name_plural = _("supplier products")
        ordering = ["product_id", "-preferred", "cost"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="supplierproduct_supplier_product"),
            models.UniqueConstraint(
                fields=["product"], condition=Q(preferred=True), name="supplierproduct_one_preferred"
            ),
            models.CheckConstraint(condition=Q(cost__gt=0), name="supplierproduct_cost_positive"),
            models.CheckConstraint(condition=Q(minimum_order_quantity__gte=1), name="supplierproduct_moq_positive"),
            models.CheckConstraint(condition=Q(pack_size__gte=1), name="supplierproduct_pack_positive"),
            models.CheckConstraint(
                condition=Q(lead_time_days__isnull=True) | Q(lead_time_days__gte=1),
                name="supplierproduct_lead_time_positive",
            ),
        ]
        indexes = [models.Index(fields=["product", "supplier"], name="supplierproduct_product_idx")]

    def __str__(self) -> str:
        return f"{self.supplier.code}: {self.supplier_sku or self.product_id}"


class SupplierPriceBreak(models.Model):
    """From `min_quantity` units per order line on, each unit costs `unit_cost`."""

    supplier_product = models.ForeignKey(SupplierProduct, on_delete=models.CASCADE, related_name="price_breaks")
    min_quantity = models.PositiveIntegerField(
        _("from quantity"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0.0001"))]
    )

    class Meta:
        verbose_name = _("price break")
        verbose_name_plural = _("price breaks")
        ordering = ["supplier_product_id", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier_product", "min_quantity"], name="pricebreak_product_quantity"
            ),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="pricebreak_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gt=0), name="pricebreak_cost_positive"),
        ]

    def __str__(self) -> str:
        return f"≥{self.min_quantity} @ {self.unit_cost}"


class ReorderPolicy(models.Model):
    """How one product is replenished in one warehouse.

    `min_max`: at or below `min_quantity` order up to `max_quantity`. `reorder_point`: the planner
    computes ROP = mean daily demand * lead time + safety stock, safety stock = z(service level) *
    stdev(daily demand) * sqrt(lead time), and orders up to ROP + demand over the review period (at least
    `max_quantity`). The computed figures are stored for display and the low-stock list.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reorder_policies")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="reorder_policies")
    method = models.CharField(_("method"), max_length=20, choices=PolicyMethod.choices, default=PolicyMethod.MIN_MAX)
    min_quantity = models.PositiveIntegerField(_("minimum"), default=0)
    max_quantity = models.PositiveIntegerField(_("maximum"), default=0)
    service_level = models.DecimalField(
        _("service level"), max_digits=5, decimal_places=4, default=Decimal("0.95"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("0.9999"))],
        help_text=_("Chance of not running out during a lead time, e.g. 0.95."),
    )
    review_period_days = models.PositiveSmallIntegerField(_("review period (days)"), default=7)
    preferred_supplier = models.ForeignKey(
        Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("preferred supplier"),
    )
    critical = models.BooleanField(
        _("critical"), default=False, help_text=_("Also planned every hour, not only nightly.")
    )
    active = models.BooleanField(_("active"), default=True)
    # Written by the planner (reorder_point) or on save (min_max): the level that triggers an order.
    reorder_level = models.PositiveIntegerField(_("reorder level"), default=0)
    safety_stock = models.PositiveIntegerField(_("safety stock"), default=0)
    demand_mean = models.DecimalField(_("mean daily demand"), max_digits=12, decimal_places=4, default=Decimal("0"))
    demand_sigma = models.DecimalField(_("daily demand std. deviation"), max_digits=12, decimal_places=4, default=Decimal("0"))
    lead_time_used = models.DecimalField(_("lead time used (days)"), max_digits=7, decimal_places=2, default=Decimal("0"))
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reorder policy")
        verbose_name_plural = _("reorder policies")
        ordering = ["product_id", "warehouse_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="reorderpolicy_product_warehouse"),
            models.CheckConstraint(condition=Q(max_quantity__gte=F("min_quantity")), name="reorderpolicy_max_ge_min"),
            models.CheckConstraint(condition=Q(min_quantity__gte=0), name="reorderpolicy_min_nonnegative"),
            models.CheckConstraint(
                condition=Q(service_level__gte=Decimal("0.5"), service_level__lt=1),
                name="reorderpolicy_service_level_range",
            ),
            models.CheckConstraint(
                condition=~Q(method=PolicyMethod.MIN_MAX) | Q(max_quantity__gt=0),
                name="reorderpolicy_min_max_has_max",
            ),
        ]
        indexes = [
            models.Index(fields=["warehouse", "product"], name="reorderpolicy_wh_product_idx"),
            models.Index(fields=["product"], name="reorderpolicy_critical_idx", condition=Q(critical=True, active=True)),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id} ({self.get_method_display()})"


class PurchaseOrderQuerySet(models.QuerySet):
    def open(self) -> PurchaseOrderQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class PurchaseOrder(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, db_default=NextPurchaseOrderNumber())
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="purchase_orders")
    status = models.CharField(
        _("status"), max_length=20, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT
    )
    source = models.CharField(
        _("source"), max_length=20, choices=PurchaseOrderSource.choices, default=PurchaseOrderSource.MANUAL
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY", validators=[validate_currency_code])
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    expected_date = models.DateField(_("expected date"), null=True, blank=True, validators=[validate_planned_date])
    payment_terms = models.CharField(_("payment terms"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=MAX_NOTES_LENGTH)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PurchaseOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-created_at", "-id"]
        # One right per consequential action (suppliers/permissions.py says which view needs which).
        permissions = [
            ("send_purchaseorder", _("Can approve purchase orders and send them to the supplier")),
            ("cancel_purchaseorder", _("Can cancel and close purchase orders")),
            ("receive_purchaseorder", _("Can receive goods against purchase orders")),
            ("acknowledge_purchaseorder", _("Can acknowledge purchase orders and confirm delivery dates")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="purchaseorder_total_nonnegative"),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="purchaseorder_created_idx"),
            models.Index(fields=["supplier", "-created_at"], name="purchaseorder_supplier_idx"),
            models.Index(fields=["status", "-created_at"], name="purchaseorder_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    """One product on a purchase order. `warehouse` repeats the order's so that the partial
    unique key on open planner suggestions can name it."""

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField(_("line"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="purchase_order_lines")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    supplier_product = models.ForeignKey(
        SupplierProduct, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    supplier_sku = models.CharField(_("supplier SKU"), max_length=64, blank=True)
    quantity = models.PositiveIntegerField(
        _("quantity"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=4)
    quantity_received = models.PositiveIntegerField(_("received"), default=0)
    expected_date = models.DateField(_("expected date"), null=True, blank=True, validators=[validate_planned_date])
    confirmed_date = models.DateField(
        _("confirmed date"), null=True, blank=True, help_text=_("The delivery date the supplier promised."),
        validators=[validate_planned_date],
    )
    # True while the line is an unapproved planner suggestion (its order still a draft).
    suggestion = models.BooleanField(_("planner suggestion"), default=False)
    policy = models.ForeignKey(ReorderPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["purchase_order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "line_no"], name="purchaseorderline_order_line_no"),
            models.UniqueConstraint(fields=["purchase_order", "product"], name="purchaseorderline_order_product"),
            # The planner's guard: at most one open suggestion per product and warehouse.
            models.UniqueConstraint(
                fields=["product", "warehouse"], condition=Q(suggestion=True),
                name="purchaseorderline_one_open_suggestion",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchaseorderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="purchaseorderline_cost_nonnegative"),
            models.CheckConstraint(condition=Q(quantity_received__gte=0), name="purchaseorderline_received_nonnegative"),
        ]
        indexes = [models.Index(fields=["product", "warehouse"], name="purchaseorderline_product_idx")]

    def __str__(self) -> str:
        return f"{self.purchase_order_id}#{self.line_no}"

    @property
    def quantity_open(self) -> int:
        return max(self.quantity - self.quantity_received, 0)

    @property
    def promised_date(self):
        return self.confirmed_date or self.expected_date

    @property
    def amount(self) -> Decimal:
        return (self.unit_cost * self.quantity).quantize(Decimal("0.01"))


class GoodsReceipt(models.Model):
    """One delivery booked against a purchase order; its lines feed the ledger and scorecards."""

    number = models.CharField(_("number"), max_length=20, unique=True, db_default=NextReceiptNumber())
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="receipts")
    received_at = models.DateTimeField(_("received at"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delivery_note = models.CharField(_("delivery note"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=MAX_NOTES_LENGTH)

    class Meta:
        verbose_name = _("goods receipt")
        verbose_name_plural = _("goods receipts")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["received_at"], name="goodsreceipt_received_idx")]

    def __str__(self) -> str:
        return self.number


class GoodsReceiptLine(models.Model):
    receipt = models.ForeignKey(GoodsReceipt, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipt_lines")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_cost = models.DecimalField(
        _("invoiced unit cost"), max_digits=12, decimal_places=4,
        help_text=_("What the supplier charged; differences to the order feed the price variance."),
    )

    class Meta:
        verbose_name = _("goods receipt line")
        verbose_name_plural = _("goods receipt lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="goodsreceiptline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="goodsreceiptline_cost_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_id}: {self.line_id} x {self.quantity}"


class PurchaseOrderEvent(models.Model):
    """The timeline of a purchase order: every state change and notable action, who and why."""

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=PurchaseOrderEventKind.choices)
    from_status = models.CharField(max_length=20, choices=PurchaseOrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=PurchaseOrderStatus.choices, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("purchase order event")
        verbose_name_plural = _("purchase order events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.purchase_order_id} {self.kind}"


class SupplierUser(models.Model):
    """Links a portal login (group Supplier) to the one supplier whose orders it may see."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supplier_link")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="portal_users")

    class Meta:
        verbose_name = _("supplier portal user")
        verbose_name_plural = _("supplier portal users")

    def __str__(self) -> str:
        return f"{self.user} → {self.supplier.code}"
