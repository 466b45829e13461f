"""Products, warehouses, stock levels and the immutable stock ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.limits import MAX_QUANTITY
from core.validators import validate_country_code


def gtin_check_digit_is_valid(value: str) -> bool:
    """GS1 mod-10 check for GTIN-8/12/13/14."""
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in value]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def validate_gtin(value: str) -> None:
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise ValidationError(_("A GTIN has 8, 12, 13 or 14 digits."), code="gtin_length")
    if not gtin_check_digit_is_valid(value):
        raise ValidationError(_("The GTIN check digit is wrong."), code="gtin_check_digit")


class Unit(models.TextChoices):
    PIECE = "pcs", _("piece")
    BOX = "box", _("box")
    KILOGRAM = "kg", _("kilogram")
    LITRE = "l", _("litre")
    METRE = "m", _("metre")


class ProductQuerySet(models.QuerySet):
    def active(self) -> ProductQuerySet:
        return self.filter(active=True)


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True, validators=[validate_gtin])
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=10, decimal_places=3, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    length_cm = models.DecimalField(
        _("length (cm)"), max_digits=8, decimal_places=1, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    width_cm = models.DecimalField(
        _("width (cm)"), max_digits=8, decimal_places=1, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    height_cm = models.DecimalField(
        _("height (cm)"), max_digits=8, decimal_places=1, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    list_price = models.DecimalField(
        _("list price"), max_digits=12, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    low_stock_threshold = models.PositiveIntegerField(
        _("low-stock threshold"), default=0, validators=[MaxValueValidator(MAX_QUANTITY)],
        help_text=_("Used when no reorder policy exists: available at or below this is low."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0), name="product_list_price_nonnegative"),
            models.CheckConstraint(condition=Q(weight_kg__gte=0), name="product_weight_nonnegative"),
            models.UniqueConstraint(fields=["gtin"], condition=~Q(gtin=""), name="product_gtin_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, default="CN", validators=[validate_country_code])
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower ships first under the priority strategy.")
    )
    handling_days = models.PositiveSmallIntegerField(
        _("handling days"), default=1, help_text=_("Working days from order to dispatch.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["priority", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="warehouse_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="warehouse_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class StockLevel(models.Model):
    """On-hand and reserved units of one product in one warehouse.

    Written only by inventory.services, always in the same transaction as the ledger rows;
    `ledger_hash` is the head of this row's hash chain of movements. `available` is the one
    definition of free stock: a column PostgreSQL computes on every write, read by
    inventory.selectors and by the reservation SQL. An instance written through `F()` or SQL
    does not know its new value: read it again (refresh_from_db, RETURNING).
    """

    # No single-column indexes: the unique (product, warehouse) and the (warehouse, product) index
    # serve both lookups, and every index a reservation's new row version must enter costs.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels", db_index=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels", db_index=False)
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    ledger_hash = models.CharField(_("ledger hash"), max_length=64, default="", blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Stored, not indexed: rewriting it costs nothing extra on a reservation's row version (the
    # row is rewritten anyway) and keeps that update HOT; no query needs an index on it.
    available = models.GeneratedField(
        expression=F("on_hand") - F("reserved"),
        output_field=models.IntegerField(),
        db_persist=True,
        verbose_name=_("available"),
    )

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stocklevel_product_warehouse"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklevel_on_hand_nonnegative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_nonnegative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stocklevel_reserved_within_on_hand"
            ),
        ]
        indexes = [models.Index(fields=["warehouse", "product"], name="stocklevel_wh_product_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand}/{self.reserved}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("receipt")
    SHIPMENT = "shipment", _("shipment")
    ADJUSTMENT = "adjustment", _("adjustment")
    TRANSFER_IN = "transfer_in", _("transfer in")
    TRANSFER_OUT = "transfer_out", _("transfer out")
    RETURN = "return", _("return")
    COUNT_CORRECTION = "count_correction", _("count correction")
    OPENING_BALANCE = "opening_balance", _("opening balance")


class StockMovement(models.Model):
    """The immutable stock ledger: one signed quantity change of one stock level.

    A database trigger refuses UPDATE and DELETE; `hash` chains each row to the previous one of
    the same stock level so `verify_ledger` can name a row altered behind the app's back.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    quantity = models.IntegerField(_("quantity"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stockmovement_quantity_nonzero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="stockmovement_balance_nonnegative"),
        ]
        indexes = [
            models.Index(fields=["product", "warehouse", "id"], name="movement_stock_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} {self.product_id}@{self.warehouse_id}"
