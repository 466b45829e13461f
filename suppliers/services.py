"""Every write of purchasing: suppliers and catalogue, reorder policies, purchase orders, receipts.

Locking: a purchase order is changed only with its row locked (`SELECT … FOR UPDATE`); lines are
locked after their order, in id order. A receipt posts all its lines' stock with one call of
`inventory.services.stock_receive_many`, which locks the stock rows in (product, warehouse)
order, so the order of locks is the same everywhere. E-mail and PDF rendering are enqueued
through the outbox and run after commit, never while these locks are held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from core.exceptions import Conflict, NotFound, ValidationFailed
from core.inputs import check_quantity, user_or_none
from core.limits import (
    MAX_NOTES_LENGTH,
    MAX_PRICE_BREAKS,
    MAX_PURCHASE_ORDER_LINES,
    MAX_QUANTITY,
    decimal_max,
)
from core.validators import require, validate_planned_date
from inventory import hooks as inventory_hooks
from inventory import services as stock
from inventory.models import MovementKind, Product, Warehouse
from suppliers import planning, tasks
from suppliers.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    ReorderPolicy,
    Supplier,
    SupplierPriceBreak,
    SupplierProduct,
)
from suppliers.statuses import (
    ACKNOWLEDGEABLE_STATUSES,
    DATE_CONFIRMABLE_STATUSES,
    EDITABLE_STATUSES,
    RECEIVABLE_STATUSES,
    PolicyMethod,
    PurchaseOrderEventKind,
    PurchaseOrderSource,
    PurchaseOrderStatus,
    can_transition,
)

# Every cost column of purchasing (catalogue, price breaks, order and receipt lines) is 12,4.
MAX_UNIT_COST = decimal_max(PurchaseOrderLine._meta.get_field("unit_cost"))
MAX_TOTAL = decimal_max(PurchaseOrder._meta.get_field("total"))


# --- helpers --------------------------------------------------------------------------------
def _raise_validation(exc: ValidationError) -> None:
    """Turn a model's full_clean() errors into one clear ValidationFailed naming the field."""
    if hasattr(exc, "error_dict"):
        field_name, errors = next(iter(exc.error_dict.items()))
        messages = [message for error in errors for message in error.messages]
        raise ValidationFailed(
            " ".join(messages), field=None if field_name == "__all__" else field_name,
            details={name: [m for e in errs for m in e.messages] for name, errs in exc.error_dict.items()},
        ) from exc
    raise ValidationFailed(" ".join(exc.messages)) from exc


def _check_money(value: Any, *, field_name: str, allow_zero: bool = True) -> Decimal:
    """A unit cost: a finite Decimal from zero (or above it) to MAX_UNIT_COST, four decimals."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValidationFailed(_("Enter a valid amount."), field=field_name) from exc
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(
            _("The amount must be zero or more.") if allow_zero else _("The amount must be more than zero."),
            field=field_name,
        )
    if amount > MAX_UNIT_COST:
        raise ValidationFailed(
            _("The amount is too large (at most %(max)s).") % {"max": MAX_UNIT_COST}, field=field_name
        )
    return amount.quantize(Decimal("0.0001"))


def _check_total(total: Decimal, *, field_name: str = "lines") -> Decimal:
    """A purchase order's total must fit its column (quantity times unit cost can exceed it)."""
    if total > MAX_TOTAL:
        raise ValidationFailed(
            _("The order total would be %(total)s; a purchase order totals at most %(max)s.")
            % {"total": total, "max": MAX_TOTAL},
            field=field_name,
        )
    return total


def _event(
    purchase_order: PurchaseOrder, kind: str, *, user: Any = None, message: str = "",
    from_status: str = "", to_status: str = "", data: dict | None = None,
) -> PurchaseOrderEvent:
    return PurchaseOrderEvent.objects.create(
        purchase_order=purchase_order, kind=kind, user=user_or_none(user), message=message[:500],
        from_status=from_status, to_status=to_status, data=data or {},
    )


def _lock(purchase_order: PurchaseOrder | int) -> PurchaseOrder:
    pk = purchase_order if isinstance(purchase_order, int) else purchase_order.pk
    found = PurchaseOrder.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Purchase order %(id)s does not exist.") % {"id": pk})
    return found


def _supply_changed(product_ids: Iterable[int]) -> None:
    """Tell waiting sales orders that expected supply moved (promised dates may change)."""
    notify = getattr(inventory_hooks, "supply_changed", None)
    ids = set(product_ids)
    if notify is not None and ids:
        notify(ids)


def _recompute_total(purchase_order: PurchaseOrder) -> None:
    total = sum((line.amount for line in purchase_order.lines.all()), Decimal("0"))
    purchase_order.total = _check_total(total.quantize(Decimal("0.01")), field_name="quantity")
    purchase_order.save(update_fields=["total", "updated_at"])


# --- suppliers and catalogue ----------------------------------------------------------------
def supplier_save(*, supplier: Supplier, user: Any = None) -> Supplier:
    """Validate and save a new or changed supplier."""
    supplier.code = (supplier.code or "").strip()
    try:
        supplier.full_clean()
    except ValidationError as exc:
        _raise_validation(exc)
    with transaction.atomic():
        supplier.save()
    return supplier


@dataclass(frozen=True)
class PriceBreakInput:
    min_quantity: int
    unit_cost: Decimal


def supplier_product_save(
    *, supplier_product: SupplierProduct, price_breaks: Sequence[PriceBreakInput] | None = None, user: Any = None,
) -> SupplierProduct:
    """Validate and save a catalogue entry; with `price_breaks`, replace its breaks.

    Making it preferred clears the flag on the product's other offers in the same transaction.
    """
    if supplier_product.cost in (None, ""):
        raise ValidationFailed(_("A supplier product needs a unit cost."), field="cost")
    supplier_product.cost = _check_money(supplier_product.cost, field_name="cost", allow_zero=False)
    breaks: list[PriceBreakInput] = []
    if price_breaks is not None:
        if len(price_breaks) > MAX_PRICE_BREAKS:
            raise ValidationFailed(
                _("At most %(max)s price breaks per product.") % {"max": MAX_PRICE_BREAKS}, field="price_breaks"
            )
        seen: set[int] = set()
        for index, item in enumerate(price_breaks):
            quantity = check_quantity(item.min_quantity, field=f"price_breaks[{index}].min_quantity")
            if quantity in seen:
                raise ValidationFailed(
                    _("Two price breaks start at %(quantity)s units.") % {"quantity": quantity},
                    field=f"price_breaks[{index}].min_quantity",
                )
            seen.add(quantity)
            cost = _check_money(item.unit_cost, field_name=f"price_breaks[{index}].unit_cost", allow_zero=False)
            breaks.append(PriceBreakInput(quantity, cost))
    try:
        supplier_product.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        _raise_validation(exc)
    with transaction.atomic():
        if supplier_product.preferred:
            SupplierProduct.objects.filter(product_id=supplier_product.product_id, preferred=True).exclude(
                pk=supplier_product.pk
            ).update(preferred=False)
        try:
            with transaction.atomic():
                supplier_product.save()
        except IntegrityError as exc:
            raise Conflict(
                _("This supplier already offers this product."), field="product"
            ) from exc
        if price_breaks is not None:
            SupplierPriceBreak.objects.filter(supplier_product=supplier_product).delete()
            SupplierPriceBreak.objects.bulk_create(
                [SupplierPriceBreak(supplier_product=supplier_product, min_quantity=b.min_quantity, unit_cost=b.unit_cost)
                 for b in sorted(breaks, key=lambda b: b.min_quantity)]
            )
    return supplier_product


def reorder_policy_save(*, policy: ReorderPolicy, user: Any = None) -> ReorderPolicy:
    """Validate (max ≥ min, service level range…) and save; min/max policies get their level now."""
    if policy.max_quantity is not None and policy.min_quantity is not None and policy.max_quantity < policy.min_quantity:
        raise ValidationFailed(_("The maximum must not be below the minimum."), field="max_quantity")
    if policy.method == PolicyMethod.MIN_MAX and not policy.max_quantity:
        raise ValidationFailed(_("A min/max policy needs a maximum above zero."), field="max_quantity")
    try:
        policy.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        _raise_validation(exc)
    if policy.method == PolicyMethod.MIN_MAX:
        policy.reorder_level = policy.min_quantity
        policy.safety_stock = 0
    elif policy.reorder_level < policy.min_quantity:
        policy.reorder_level = policy.min_quantity
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:
        raise Conflict(
            _("This product already has a reorder policy in this warehouse."), field="warehouse"
        ) from exc
    return policy


# --- purchase orders ------------------------------------------------------------------------
@dataclass(frozen=True)
class PurchaseOrderLineInput:
    product: int | str  # id or SKU
    quantity: int
    unit_cost: Decimal | str | None = None
    expected_date: date | None = None


@dataclass
class CreatedPurchaseOrder:
    purchase_order: PurchaseOrder
    warnings: list[str] = field(default_factory=list)


def _resolve_products(lines: Sequence[PurchaseOrderLineInput]) -> dict[int | str, Product]:
    ids = [line.product for line in lines if isinstance(line.product, int) and not isinstance(line.product, bool)]
    skus = [line.product.strip() for line in lines if isinstance(line.product, str)]
    found: dict[int | str, Product] = {}
    for product in Product.objects.filter(pk__in=ids):
        found[product.pk] = product
    for product in Product.objects.filter(sku__in=skus):
        found[product.sku] = product
    return found


def supplier_offers(*, supplier_id: int, product_ids: Iterable[int]) -> dict[int, planning.Candidate]:
    """The supplier's active offers for these products, with price breaks (two queries)."""
    offers = list(
        SupplierProduct.objects.filter(supplier_id=supplier_id, product_id__in=list(product_ids), active=True)
        .select_related("supplier")
        .prefetch_related("price_breaks")
    )
    return {
        offer.product_id: planning.Candidate(
            supplier_id=offer.supplier_id,
            supplier_product_id=offer.pk,
            cost=offer.cost,
            minimum_order_quantity=offer.minimum_order_quantity,
            pack_size=offer.pack_size,
            lead_time_days=offer.lead_time_days or offer.supplier.default_lead_time_days,
            preferred=offer.preferred,
            landed_cost_percent=offer.supplier.landed_cost_percent,
            price_breaks=tuple((b.min_quantity, b.unit_cost) for b in offer.price_breaks.all()),
            supplier_sku=offer.supplier_sku,
            currency=offer.currency,
        )
        for offer in offers
    }


def standing_warnings(*, supplier: Supplier) -> list[str]:
    """Warn (or refuse, if configured) a new order to a supplier with a poor delivery record."""
    from suppliers.scorecards import supplier_standing

    standing = supplier_standing(supplier_id=supplier.pk)
    if not standing.below_threshold:
        return []
    message = _(
        "%(supplier)s delivered only %(otif)s%% of recent lines on time and in full (threshold %(threshold)s%%)."
    ) % {"supplier": supplier.name, "otif": standing.otif_percent, "threshold": standing.threshold}
    if settings.SUPPLIER_BLOCK_BELOW_STANDING:
        raise Conflict(message + " " + _("New purchase orders to this supplier are blocked."), field="supplier")
    return [message]


def purchase_order_create(
    *,
    supplier: Supplier | int,
    warehouse: Warehouse | int,
    lines: Sequence[PurchaseOrderLineInput],
    user: Any = None,
    notes: str = "",
    expected_date: date | None = None,
) -> CreatedPurchaseOrder:
    """Create a draft purchase order. Costs default to the catalogue (price breaks applied).

    Refused with a clear error (nothing written) for an unknown or inactive supplier/warehouse/
    product, bad quantities, a product listed twice, or a line without any known cost.
    """
    supplier_obj = Supplier.objects.filter(pk=supplier if isinstance(supplier, int) else supplier.pk).first()
    if supplier_obj is None or not supplier_obj.active:
        raise ValidationFailed(_("Choose an active supplier."), field="supplier")
    warehouse_obj = Warehouse.objects.filter(pk=warehouse if isinstance(warehouse, int) else warehouse.pk).first()
    if warehouse_obj is None or not warehouse_obj.active:
        raise ValidationFailed(_("Choose an active warehouse."), field="warehouse")
    if not lines:
        raise ValidationFailed(_("A purchase order needs at least one line."), field="lines")
    if len(lines) > MAX_PURCHASE_ORDER_LINES:
        raise ValidationFailed(
            _("At most %(max)s lines per purchase order.") % {"max": MAX_PURCHASE_ORDER_LINES}, field="lines"
        )
    notes = notes or ""
    if len(notes) > MAX_NOTES_LENGTH:
        raise ValidationFailed(
            _("The notes are too long (at most %(max)s characters).") % {"max": MAX_NOTES_LENGTH}, field="notes"
        )
    products = _resolve_products(lines)
    offers = supplier_offers(supplier_id=supplier_obj.pk, product_ids=[p.pk for p in products.values()])
    today = timezone.localdate()
    seen: set[int] = set()
    prepared: list[PurchaseOrderLine] = []
    for index, line in enumerate(lines):
        key = line.product.strip() if isinstance(line.product, str) else line.product
        product = products.get(key)
        if product is None or not product.active:
            raise ValidationFailed(
                _("Unknown or inactive product %(product)s.") % {"product": key}, field=f"lines[{index}].product"
            )
        if product.pk in seen:
            raise ValidationFailed(
                _("%(sku)s is listed twice; put the whole quantity on one line.") % {"sku": product.sku},
                field=f"lines[{index}].product",
            )
        seen.add(product.pk)
        quantity = check_quantity(line.quantity, field=f"lines[{index}].quantity")
        offer = offers.get(product.pk)
        if line.unit_cost not in (None, ""):
            unit_cost = _check_money(line.unit_cost, field_name=f"lines[{index}].unit_cost")
        elif offer is not None:
            unit_cost = planning.unit_cost_for(quantity, base_cost=offer.cost, price_breaks=offer.price_breaks)
        else:
            raise ValidationFailed(
                _("%(supplier)s has no cost for %(sku)s: enter a unit cost or add it to the supplier's catalogue.")
                % {"supplier": supplier_obj.name, "sku": product.sku},
                field=f"lines[{index}].unit_cost",
            )
        lead = int(offer.lead_time_days) if offer else supplier_obj.default_lead_time_days
        expected = line.expected_date or expected_date or today + timedelta(days=lead)
        require(validate_planned_date, expected, field=f"lines[{index}].expected_date")
        if expected < today:
            raise ValidationFailed(_("The expected date lies in the past."), field=f"lines[{index}].expected_date")
        prepared.append(
            PurchaseOrderLine(
                line_no=index + 1, product=product, warehouse=warehouse_obj,
                supplier_product_id=offer.supplier_product_id if offer else None,
                supplier_sku=offer.supplier_sku if offer else "",
                quantity=quantity, unit_cost=unit_cost, expected_date=expected,
            )
        )
    total = _check_total(sum((line.amount for line in prepared), Decimal("0")))
    warnings = standing_warnings(supplier=supplier_obj)
    with transaction.atomic():
        purchase_order = PurchaseOrder.objects.create(
            supplier=supplier_obj, warehouse=warehouse_obj, currency=supplier_obj.currency,
            payment_terms=supplier_obj.payment_terms, notes=notes, created_by=user_or_none(user),
            expected_date=max(line.expected_date for line in prepared), source=PurchaseOrderSource.MANUAL,
        )
        for line in prepared:
            line.purchase_order = purchase_order
        PurchaseOrderLine.objects.bulk_create(prepared)
        purchase_order.total = total
        purchase_order.save(update_fields=["total"])
        _event(purchase_order, PurchaseOrderEventKind.CREATED, user=user, to_status=purchase_order.status,
               message=" ".join(warnings))
    return CreatedPurchaseOrder(purchase_order, warnings)


_TIMESTAMPS = {
    PurchaseOrderStatus.SENT: "sent_at",
    PurchaseOrderStatus.ACKNOWLEDGED: "acknowledged_at",
    PurchaseOrderStatus.CLOSED: "closed_at",
    PurchaseOrderStatus.CANCELLED: "closed_at",
}


def purchase_order_transition(
    *, purchase_order: PurchaseOrder | int, to: str, user: Any = None, reason: str = "", data: dict | None = None,
) -> PurchaseOrder:
    """The one way a purchase order changes status: lock, check the table, write, record an event.

    Leaving draft turns planner suggestions into ordinary lines; sending enqueues the e-mail to
    the supplier (after commit, through the outbox).
    """
    with transaction.atomic():
        po = _lock(purchase_order)
        if not can_transition(po.status, to):
            raise Conflict(
                _("A purchase order that is %(current)s cannot become %(target)s.")
                % {"current": po.get_status_display(), "target": PurchaseOrderStatus(to).label},
                field="status",
            )
        from_status = po.status
        po.status = to
        update_fields = ["status", "updated_at"]
        stamp = _TIMESTAMPS.get(to)
        if stamp and getattr(po, stamp) is None:
            setattr(po, stamp, timezone.now())
            update_fields.append(stamp)
        if to == PurchaseOrderStatus.SENT:
            po.approved_by = user_or_none(user)
            update_fields.append("approved_by")
        po.save(update_fields=update_fields)
        if from_status == PurchaseOrderStatus.DRAFT:
            PurchaseOrderLine.objects.filter(purchase_order=po, suggestion=True).update(suggestion=False)
        _event(po, PurchaseOrderEventKind.STATUS, user=user, message=reason, from_status=from_status,
               to_status=to, data=data)
        if to == PurchaseOrderStatus.SENT:
            outbox.enqueue(tasks.email_purchase_order_task, kwargs={"purchase_order_id": po.pk})
        if to in (PurchaseOrderStatus.SENT, PurchaseOrderStatus.CANCELLED, PurchaseOrderStatus.CLOSED):
            _supply_changed(po.lines.values_list("product_id", flat=True))
    return po


def purchase_order_send(*, purchase_order: PurchaseOrder | int, user: Any = None) -> PurchaseOrder:
    """Approve a draft: it becomes `sent` and is e-mailed to the supplier with its PDF."""
    return purchase_order_transition(purchase_order=purchase_order, to=PurchaseOrderStatus.SENT, user=user)


def purchase_order_approve_many(*, purchase_order_ids: Iterable[int], user: Any = None) -> list[PurchaseOrder]:
    """Approve several planner drafts (the suggestions page); each in its own transaction."""
    return [purchase_order_send(purchase_order=pk, user=user) for pk in sorted(set(purchase_order_ids))]


def purchase_order_email_again(*, purchase_order: PurchaseOrder | int, user: Any = None) -> PurchaseOrder:
    with transaction.atomic():
        po = _lock(purchase_order)
        if po.status not in ACKNOWLEDGEABLE_STATUSES | {PurchaseOrderStatus.PARTIALLY_RECEIVED}:
            raise Conflict(_("Only a sent purchase order can be e-mailed to the supplier."), field="status")
        outbox.enqueue(tasks.email_purchase_order_task, kwargs={"purchase_order_id": po.pk})
        _event(po, PurchaseOrderEventKind.NOTE, user=user, message=_("E-mail to the supplier requested again."))
    return po


def purchase_order_cancel(*, purchase_order: PurchaseOrder | int, reason: str, user: Any = None) -> PurchaseOrder:
    if not reason or not reason.strip():
        raise ValidationFailed(_("Give a reason for cancelling."), field="reason")
    return purchase_order_transition(
        purchase_order=purchase_order, to=PurchaseOrderStatus.CANCELLED, user=user, reason=reason.strip()
    )


def purchase_order_close(*, purchase_order: PurchaseOrder | int, reason: str = "", user: Any = None) -> PurchaseOrder:
    """Close a received order, or short-close a partially received one (the rest never comes)."""
    return purchase_order_transition(
        purchase_order=purchase_order, to=PurchaseOrderStatus.CLOSED, user=user, reason=reason.strip()
    )


def purchase_order_line_set_quantity(
    *, line: PurchaseOrderLine | int, quantity: int, user: Any = None
) -> PurchaseOrder:
    """Change (or, with 0, remove) a line of a draft; a draft left without lines is cancelled."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0 or quantity > MAX_QUANTITY:
        raise ValidationFailed(_("Quantity must be a whole number, zero or more."), field="quantity")
    line_id = line if isinstance(line, int) else line.pk
    purchase_order_id = PurchaseOrderLine.objects.filter(pk=line_id).values_list("purchase_order_id", flat=True).first()
    if purchase_order_id is None:
        raise NotFound(_("That purchase order line does not exist."), field="line")
    with transaction.atomic():
        po = _lock(purchase_order_id)
        if po.status not in EDITABLE_STATUSES:
            raise Conflict(_("Only a draft purchase order can be changed."), field="status")
        target = PurchaseOrderLine.objects.select_for_update().get(pk=line_id)
        if quantity == 0:
            target.delete()
            message = _("Line %(line)s removed.") % {"line": target.line_no}
        else:
            offer = supplier_offers(supplier_id=po.supplier_id, product_ids=[target.product_id]).get(target.product_id)
            target.quantity = quantity
            if offer is not None:
                target.unit_cost = planning.unit_cost_for(quantity, base_cost=offer.cost, price_breaks=offer.price_breaks)
            target.save(update_fields=["quantity", "unit_cost"])
            message = _("Line %(line)s set to %(quantity)s.") % {"line": target.line_no, "quantity": quantity}
        _event(po, PurchaseOrderEventKind.MODIFIED, user=user, message=message)
        if not po.lines.exists():
            return purchase_order_transition(
                purchase_order=po.pk, to=PurchaseOrderStatus.CANCELLED, user=user, reason=_("No lines left.")
            )
        _recompute_total(po)
    return po


def purchase_order_confirm_dates(
    *, purchase_order: PurchaseOrder | int, dates: dict[int, date], user: Any = None
) -> PurchaseOrder:
    """The supplier promises delivery dates per line (ids of this order's lines only)."""
    with transaction.atomic():
        po = _lock(purchase_order)
        _apply_confirmed_dates(po, dates, user=user)
    return po


def _apply_confirmed_dates(po: PurchaseOrder, dates: dict[int, date], *, user: Any) -> None:
    if not dates:
        return
    if po.status not in DATE_CONFIRMABLE_STATUSES:
        raise Conflict(
            _("Dates cannot be confirmed on a purchase order that is %(status)s.") % {"status": po.get_status_display()},
            field="status",
        )
    lines = {line.pk: line for line in PurchaseOrderLine.objects.select_for_update().filter(purchase_order=po).order_by("pk")}
    earliest = po.created_at.date() if po.created_at else timezone.localdate()
    changed: list[PurchaseOrderLine] = []
    for line_id, confirmed in dates.items():
        line = lines.get(line_id)
        if line is None:
            raise ValidationFailed(
                _("Line %(line)s is not on purchase order %(number)s.") % {"line": line_id, "number": po.number},
                field="lines",
            )
        require(validate_planned_date, confirmed, field=f"lines.{line_id}.confirmed_date")
        if confirmed < earliest:
            raise ValidationFailed(
                _("A confirmed date cannot lie before the order date."), field=f"lines.{line_id}.confirmed_date"
            )
        if line.confirmed_date != confirmed:
            line.confirmed_date = confirmed
            changed.append(line)
    if not changed:
        return
    PurchaseOrderLine.objects.bulk_update(changed, ["confirmed_date"])
    _event(po, PurchaseOrderEventKind.DATES, user=user,
           data={str(line.pk): line.confirmed_date.isoformat() for line in changed})
    _supply_changed(line.product_id for line in changed)


def purchase_order_acknowledge(
    *, purchase_order: PurchaseOrder | int, user: Any = None, confirmed_dates: dict[int, date] | None = None,
) -> PurchaseOrder:
    """The supplier accepts the order (sent → acknowledged) and may confirm dates at once."""
    with transaction.atomic():
        po = _lock(purchase_order)
        if po.status not in ACKNOWLEDGEABLE_STATUSES:
            raise Conflict(
                _("A purchase order that is %(status)s cannot be acknowledged.") % {"status": po.get_status_display()},
                field="status",
            )
        if po.status == PurchaseOrderStatus.SENT:
            po = purchase_order_transition(purchase_order=po.pk, to=PurchaseOrderStatus.ACKNOWLEDGED, user=user)
        _apply_confirmed_dates(po, confirmed_dates or {}, user=user)
    return po


# --- receiving ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceiptLineInput:
    line_id: int
    quantity: int
    unit_cost: Decimal | str | None = None


def over_receipt_limit(ordered: int) -> int:
    """The most units a line may receive in total: ordered plus the configured tolerance."""
    tolerance = Decimal(settings.PURCHASING_OVER_RECEIPT_TOLERANCE_PERCENT)
    return int((Decimal(ordered) * (1 + tolerance / 100)).to_integral_value(rounding="ROUND_FLOOR"))


_ADD_RECEIVED_SQL = """
UPDATE suppliers_purchaseorderline AS line
   SET quantity_received = line.quantity_received + received.quantity
  FROM unnest(%s::bigint[], %s::integer[]) AS received(id, quantity)
 WHERE line.id = received.id
"""


def _add_received(items: Sequence[ReceiptLineInput]) -> None:
    """Add the received units to their purchase-order lines: one statement for all the lines."""
    with connection.cursor() as cursor:
        cursor.execute(_ADD_RECEIVED_SQL, [[item.line_id for item in items], [item.quantity for item in items]])


def purchase_order_receive(
    *,
    purchase_order: PurchaseOrder | int,
    lines: Sequence[ReceiptLineInput],
    user: Any = None,
    delivery_note: str = "",
    notes: str = "",
    received_at: datetime | None = None,
) -> GoodsReceipt:
    """Book a delivery: receipt rows, ledger receipts, line totals and the order's status.

    All or nothing: an unknown line, a bad quantity, a receipt beyond the over-receipt tolerance
    or an order in the wrong state raise a clear error and write nothing. Set-based: the same
    number of queries for one line or two hundred — one stock posting for all lines (one ledger
    row each), whose single stock_arrived hook call reallocates waiting backorders (oldest
    first) after commit. Locks: order row, then its lines in id order, then stock rows (via
    inventory, in product order).
    """
    if not lines:
        raise ValidationFailed(_("Enter a received quantity for at least one line."), field="lines")
    wanted: dict[int, ReceiptLineInput] = {}
    for index, item in enumerate(lines):
        if isinstance(item.line_id, bool) or not isinstance(item.line_id, int):
            raise ValidationFailed(_("Unknown purchase order line."), field=f"lines[{index}].line_id")
        check_quantity(item.quantity, field=f"lines[{index}].quantity")
        if item.line_id in wanted:
            raise ValidationFailed(_("A line appears twice in this receipt."), field=f"lines[{index}].line_id")
        if item.unit_cost not in (None, ""):
            _check_money(item.unit_cost, field_name=f"lines[{index}].unit_cost")
        wanted[item.line_id] = item
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(_("The receipt date lies in the future."), field="received_at")
    with transaction.atomic():
        po = _lock(purchase_order)
        if po.status not in RECEIVABLE_STATUSES:
            raise Conflict(
                _("Goods cannot be received on a purchase order that is %(status)s.") % {"status": po.get_status_display()},
                field="status",
            )
        po_lines = {
            line.pk: line
            for line in PurchaseOrderLine.objects.select_for_update().filter(purchase_order=po).order_by("pk")
        }
        problems: list[dict[str, Any]] = []
        for line_id, item in wanted.items():
            line = po_lines.get(line_id)
            if line is None:
                raise ValidationFailed(
                    _("Line %(line)s is not on purchase order %(number)s.") % {"line": line_id, "number": po.number},
                    field="lines", details={"line_id": line_id},
                )
            limit = over_receipt_limit(line.quantity)
            if line.quantity_received + item.quantity > limit:
                problems.append({
                    "line_id": line_id, "line_no": line.line_no, "ordered": line.quantity,
                    "already_received": line.quantity_received, "receiving": item.quantity,
                    "allowed_total": limit,
                })
        if problems:
            first = problems[0]
            raise ValidationFailed(
                _("Line %(line_no)s: receiving %(receiving)s would bring it to %(total)s of %(ordered)s ordered; "
                  "at most %(allowed)s are allowed (over-receipt tolerance %(tolerance)s%%).")
                % {"line_no": first["line_no"], "receiving": first["receiving"],
                   "total": first["already_received"] + first["receiving"], "ordered": first["ordered"],
                   "allowed": first["allowed_total"], "tolerance": settings.PURCHASING_OVER_RECEIPT_TOLERANCE_PERCENT},
                field="lines", details=problems,
            )
        receipt = GoodsReceipt.objects.create(
            purchase_order=po, received_at=received_at, received_by=user_or_none(user),
            delivery_note=delivery_note[:100], notes=notes,
        )
        # Product order: the order inventory locks stock rows in, and the order of the rows here.
        received = sorted(wanted.values(), key=lambda item: (po_lines[item.line_id].product_id, item.line_id))
        receipt_lines = [
            GoodsReceiptLine(
                receipt=receipt, line=po_lines[item.line_id], quantity=item.quantity,
                unit_cost=po_lines[item.line_id].unit_cost if item.unit_cost in (None, "") else Decimal(str(item.unit_cost)),
            )
            for item in received
        ]
        _add_received(received)
        for item in received:
            po_lines[item.line_id].quantity_received += item.quantity
        stock.stock_receive_many(
            lines=[stock.StockLine(po_lines[item.line_id].product_id, po.warehouse_id, item.quantity) for item in received],
            reference=f"{po.number}/{receipt.number}", reason=_("purchase receipt"), user=user,
            kind=MovementKind.RECEIPT,
        )
        GoodsReceiptLine.objects.bulk_create(receipt_lines)
        _event(po, PurchaseOrderEventKind.RECEIVED, user=user,
               message=_("Receipt %(number)s booked.") % {"number": receipt.number},
               data={str(rl.line_id): rl.quantity for rl in receipt_lines})
        complete = all(line.quantity_received >= line.quantity for line in po_lines.values())
        target = PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.PARTIALLY_RECEIVED
        if target != po.status:
            purchase_order_transition(purchase_order=po.pk, to=target, user=user)
    return receipt


# --- supplier portal users ------------------------------------------------------------------
def supplier_user_link(*, user: Any, supplier: Supplier) -> Any:
    """Give a login the Supplier role, limited to this supplier's purchase orders."""
    from django.contrib.auth.models import Group

    from core.roles import SUPPLIER
    from suppliers.models import SupplierUser

    with transaction.atomic():
        link, _created = SupplierUser.objects.update_or_create(user=user, defaults={"supplier": supplier})
        group, _ = Group.objects.get_or_create(name=SUPPLIER)
        user.groups.add(group)
    user.__dict__.pop("_supplier_scope", None)
    return link
