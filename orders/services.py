"""Order use cases: place, modify, allocate, hold, cancel, ship, deliver — each one transaction.

Locking order: the sales order row first (`SELECT … FOR UPDATE`), then stock rows through
inventory.services (product, warehouse order). Nothing slow runs under these locks; follow-up
work (notifications, webhooks) is enqueued through the outbox and runs after commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from core.exceptions import Conflict, InsufficientStock, NotFound, ValidationFailed
from core.limits import MAX_NOTES_LENGTH, MAX_ORDER_LINE_QUANTITY, MAX_ORDER_LINES, decimal_max
from core.validators import require, validate_country_code, validate_currency_code, validate_planned_date
from inventory import hooks as inventory_hooks
from inventory import services as stock
from inventory.models import Product, StockLevel, Warehouse
from orders import intake, tasks
from orders.allocation import Need, WarehouseInfo, plan_allocation, promised_date
from orders.handlers import backordered_units
from orders.models import Address, Allocation, Channel, Customer, OrderEvent, OrderLine, SalesOrder
from orders.statuses import (
    ALLOCATION_STATES,
    CANCELLABLE_STATUSES,
    MODIFIABLE_STATUSES,
    SHIPPABLE_STATUSES,
    AllocationStrategy,
    EventKind,
    OrderStatus,
    can_transition,
)

MAX_UNIT_PRICE = decimal_max(OrderLine._meta.get_field("unit_price"))
MAX_TOTAL = decimal_max(SalesOrder._meta.get_field("total"))


# --- inputs -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class CustomerInput:
    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class AddressInput:
    line1: str
    city: str
    postal_code: str = ""
    country: str = "CN"
    name: str = ""
    line2: str = ""
    region: str = ""
    lat: float | None = None
    lon: float | None = None


@dataclass
class PlacedOrder:
    order: SalesOrder
    created: bool
    lines: list[OrderLine] = field(default_factory=list)


# --- transitions ------------------------------------------------------------------------------
def order_transition(
    *,
    order: SalesOrder,
    to: str,
    actor: Any = None,
    reason: str = "",
    data: dict | None = None,
    save: bool = True,
) -> OrderEvent:
    """The one way an order changes status: check the table, set it, record an event.

    The caller holds the order row lock. With `save=False` the status is set in memory and the
    unsaved event is returned, so a use case can write everything in its own bulk statements.
    """
    current = order.status
    if not can_transition(current, to):
        raise Conflict(
            _("An order that is %(current)s cannot become %(target)s.")
            % {"current": OrderStatus(current).label, "target": OrderStatus(to).label},
            field="status",
            details={"from": current, "to": to},
        )
    order.status = to
    event = OrderEvent(
        order=order,
        kind=EventKind.STATUS,
        from_status=current,
        to_status=to,
        message=reason[:500],
        data=data or {},
        actor=_user_or_none(actor),
    )
    if save:
        order.save(update_fields=["status", "status_before_hold", "hold_reason", "cancel_reason", "updated_at"])
        event.save()
        _notify_status(order, current, to)
    return event


def _notify_status(order: SalesOrder, from_status: str, to_status: str) -> None:
    outbox.enqueue(
        tasks.order_status_changed_task,
        kwargs={"order_id": order.pk, "from_status": from_status, "to_status": to_status},
    )


def _user_or_none(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _lock_order(order: SalesOrder | int) -> SalesOrder:
    order_id = order if isinstance(order, int) else order.pk
    try:
        return SalesOrder.objects.select_for_update().get(pk=order_id)
    except SalesOrder.DoesNotExist as exc:
        raise NotFound(_("Order %(id)s does not exist.") % {"id": order_id}) from exc


# --- validation helpers -----------------------------------------------------------------------
def _validate_lines(lines: Sequence[LineInput]) -> dict[str, Product]:
    _check_line_inputs(lines)
    products = {p.sku: p for p in Product.objects.filter(sku__in={line.sku.strip() for line in lines})}
    _check_products(lines, products)
    return products


def _check_line_inputs(lines: Sequence[LineInput]) -> None:
    if not lines:
        raise ValidationFailed(_("An order needs at least one line."), field="lines")
    if len(lines) > MAX_ORDER_LINES:
        raise ValidationFailed(_("At most %(max)s lines per order.") % {"max": MAX_ORDER_LINES}, field="lines")
    for index, line in enumerate(lines):
        if not isinstance(line.sku, str) or not line.sku.strip():
            raise ValidationFailed(_("A SKU is required."), field=f"lines[{index}].sku")
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ValidationFailed(_("Quantity must be a whole number."), field=f"lines[{index}].quantity")
        if quantity < 1 or quantity > MAX_ORDER_LINE_QUANTITY:
            raise ValidationFailed(
                _("Quantity must be between 1 and %(max)s.") % {"max": MAX_ORDER_LINE_QUANTITY},
                field=f"lines[{index}].quantity",
            )
        if line.unit_price is not None:
            try:
                price = Decimal(line.unit_price)
            except (InvalidOperation, TypeError, ValueError) as exc:
                raise ValidationFailed(_("Unit price must be a number."), field=f"lines[{index}].unit_price") from exc
            if not price.is_finite() or price < 0 or price > MAX_UNIT_PRICE or price != price.quantize(Decimal("0.01")):
                raise ValidationFailed(
                    _("Unit price must be from 0 to %(max)s, with at most two decimals.") % {"max": MAX_UNIT_PRICE},
                    field=f"lines[{index}].unit_price",
                )


def _check_total(lines: Sequence[OrderLine]) -> Decimal:
    """The order's total (quantity times unit price over the lines), which must fit its column."""
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    if total > MAX_TOTAL:
        raise ValidationFailed(
            _("The order total would be %(total)s; an order totals at most %(max)s.") % {"total": total, "max": MAX_TOTAL},
            field="lines",
        )
    return total


def _check_products(lines: Sequence[LineInput], products: dict[str, Product]) -> None:
    for index, line in enumerate(lines):
        product = products.get(line.sku.strip())
        if product is None:
            raise ValidationFailed(_("Unknown SKU %(sku)s.") % {"sku": line.sku}, field=f"lines[{index}].sku")
        if not product.active:
            raise ValidationFailed(_("SKU %(sku)s is not sold any more.") % {"sku": line.sku}, field=f"lines[{index}].sku")


def _validate_address(ship_to: AddressInput) -> None:
    if not ship_to.line1 or not ship_to.line1.strip():
        raise ValidationFailed(_("The ship-to address needs a first line."), field="ship_to.line1")
    if not ship_to.city or not ship_to.city.strip():
        raise ValidationFailed(_("The ship-to address needs a city."), field="ship_to.city")
    require(validate_country_code, str(ship_to.country or "").upper(), field="ship_to.country")
    for name, value, limit in (("lat", ship_to.lat, 90), ("lon", ship_to.lon, 180)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float | Decimal) or abs(value) > limit):
            raise ValidationFailed(_("Coordinate out of range."), field=f"ship_to.{name}")


def _customer_for(customer: CustomerInput, *, known: Customer | None = None) -> Customer:
    """The customer with this email (`known` if the caller already read it), created if new."""
    email = (customer.email or "").strip().lower()
    if not email or "@" not in email:
        raise ValidationFailed(_("A customer email is required."), field="customer.email")
    existing = known if known is not None else Customer.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing
    name = (customer.name or "").strip()
    if not name:
        raise ValidationFailed(_("A customer name is required."), field="customer.name")
    try:
        with transaction.atomic():
            return Customer.objects.create(name=name[:200], email=email, phone=(customer.phone or "")[:40])
    except IntegrityError:
        # created by a concurrent order a moment ago
        return Customer.objects.get(email__iexact=email)


def _warehouse_infos() -> list[WarehouseInfo]:
    return [
        WarehouseInfo(
            id=w.id, code=w.code, priority=w.priority, handling_days=w.handling_days,
            latitude=float(w.latitude) if w.latitude is not None else None,
            longitude=float(w.longitude) if w.longitude is not None else None,
        )
        for w in Warehouse.objects.filter(active=True).only(
            "id", "code", "priority", "handling_days", "latitude", "longitude"
        )
    ]


def _ship_to_point(address: Address) -> tuple[float, float] | None:
    if address.latitude is None or address.longitude is None:
        return None
    return float(address.latitude), float(address.longitude)


# --- allocation core --------------------------------------------------------------------------
def _allocate_lines(
    *,
    order: SalesOrder,
    lines: Sequence[OrderLine],
    warehouses: Sequence[WarehouseInfo],
    existing: dict[tuple[int, int], Allocation] | None = None,
) -> tuple[list[Allocation], list[Allocation]]:
    """Reserve what can be reserved for the lines' backordered quantities.

    Locks the products' stock rows (in order), plans, reserves with one guarded UPDATE and
    updates the lines in memory. Returns (new allocations, changed existing allocations).
    """
    needs = _needs(lines)
    if not needs:
        return [], []
    locked = stock.lock_stock_levels(
        product_ids={need.product_id for need in needs}, warehouse_ids=[w.id for w in warehouses]
    )
    available: dict[int, dict[int, int]] = defaultdict(dict)
    for level in locked:
        available[level.product_id][level.warehouse_id] = level.on_hand - level.reserved
    new, changed, reservations = _plan_lines(
        order=order, lines=lines, needs=needs, warehouses=warehouses, available=available, existing=existing
    )
    stock.stock_reserve(lines=reservations)
    return new, changed


def _needs(lines: Sequence[OrderLine]) -> list[Need]:
    needs = [Need(key=index, product_id=line.product_id, quantity=_backordered(line)) for index, line in enumerate(lines)]
    return [need for need in needs if need.quantity > 0]


def _plan_lines(
    *,
    order: SalesOrder,
    lines: Sequence[OrderLine],
    needs: Sequence[Need],
    warehouses: Sequence[WarehouseInfo],
    available: dict[int, dict[int, int]],
    existing: dict[tuple[int, int], Allocation] | None = None,
) -> tuple[list[Allocation], list[Allocation], list[stock.StockLine]]:
    """Plan the needs against `available`; update the lines in memory (no I/O).

    Returns (new allocations, changed existing allocations, the reservations to make).
    """
    plan = plan_allocation(
        needs, available, warehouses, strategy=order.allocation_strategy, point=_ship_to_point(order.ship_to)
    )
    reservations: list[stock.StockLine] = []
    new: list[Allocation] = []
    changed: list[Allocation] = []
    existing = existing or {}
    for need in needs:
        line = lines[need.key]
        for warehouse_id, quantity in plan[need.key]:
            reservations.append(stock.StockLine(line.product_id, warehouse_id, quantity))
            line.quantity_allocated += quantity
            current = existing.get((line.pk, warehouse_id)) if line.pk else None
            if current is not None:
                current.quantity += quantity
                changed.append(current)
            else:
                new.append(Allocation(line=line, warehouse_id=warehouse_id, quantity=quantity))
    return new, changed, reservations


def _backordered(line: OrderLine) -> int:
    return line.quantity - line.quantity_allocated - line.quantity_shipped - line.quantity_cancelled


def _allocation_status(lines: Sequence[OrderLine]) -> str:
    open_lines = [line for line in lines if line.quantity - line.quantity_cancelled - line.quantity_shipped > 0]
    if not open_lines:
        return OrderStatus.SHIPPED
    if all(_backordered(line) == 0 for line in open_lines):
        return OrderStatus.ALLOCATED
    if all(line.quantity_allocated == 0 for line in open_lines):
        return OrderStatus.BACKORDERED
    return OrderStatus.PARTIALLY_ALLOCATED


def _promise(
    lines: Sequence[OrderLine], allocations: Iterable[Allocation], warehouses: Sequence[WarehouseInfo],
    *, order: SalesOrder | None = None,
) -> date | None:
    """In stock: today + handling days. Backordered: when incoming supply covers this order's
    backordered units after those owed to orders placed before it (a saved `order`; for one not
    yet saved, every waiting order is ahead), + handling days."""
    today = timezone.localdate()
    handling = {w.id: w.handling_days for w in warehouses}
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        units = _backordered(line)
        if units > 0:
            wanted[line.product_id] += units
    supply: dict[int, date] = {}
    if wanted:
        ahead = backordered_units(set(wanted), before=order) if order is not None and order.pk else None
        supply = inventory_hooks.expected_supply_dates(wanted, today, ahead=ahead, wanted=dict(wanted))
    return promised_date(
        today=today,
        handling_days=[handling.get(a.warehouse_id, 1) for a in allocations] or [1],
        backorder_supply_dates=[supply.get(product_id) for product_id in wanted],
    )


def _short_details(lines: Sequence[OrderLine], products_by_id: dict[int, Product]) -> list[dict[str, Any]]:
    return [
        {"sku": products_by_id[line.product_id].sku, "requested": line.quantity, "available": line.quantity_allocated}
        for line in lines
        if _backordered(line) > 0
    ]


# --- use cases --------------------------------------------------------------------------------
def place_order(
    *,
    channel: str,
    customer: CustomerInput,
    ship_to: AddressInput,
    lines: Sequence[LineInput],
    external_ref: str = "",
    allow_backorder: bool = True,
    currency: str = "CNY",
    requested_date: date | None = None,
    notes: str = "",
    user: Any = None,
) -> PlacedOrder:
    """Validate, create, reserve and promise an order — or return the existing one.

    Idempotent on channel + external_ref: a second call (even concurrent) returns the first
    order with `created=False`. With allow_backorder=False and too little stock nothing is
    written and InsufficientStock names the short SKUs.

    The hot path is two round trips: products and their availability are read in one query
    without locks; when that snapshot covers every line, one statement writes the whole order
    and, last, reserves the planned stock, all rows or none (orders.intake.write). At top
    level that statement is its own transaction, so the stock rows stay locked only from its
    end to its commit. If a concurrent order took the units in between, the statement fails
    and writes nothing, and the order is placed the careful way: in a transaction, insert the
    order row, lock the stock rows, plan, reserve, write the rest. Both ways insert the order
    row (its channel + external_ref key) before they take any stock lock (in (product,
    warehouse) order), so two requests with the same reference meet on that key, never in a
    deadlock.
    """
    external_ref = (external_ref or "").strip()
    if len(external_ref) > 100:
        raise ValidationFailed(_("The external reference is too long (100 characters at most)."), field="external_ref")
    known = intake.read(
        channel=str(channel), external_ref=external_ref, email=str(customer.email or "").strip(),
        skus={line.sku.strip() for line in lines if isinstance(line.sku, str)},
    )
    channel_obj = known.channel
    if channel_obj is None:
        raise ValidationFailed(_("Unknown channel %(code)s.") % {"code": channel}, field="channel")
    if known.existing_order_id is not None:
        return PlacedOrder(order=SalesOrder.objects.get(pk=known.existing_order_id), created=False)
    currency = str(currency or "").upper()
    require(validate_currency_code, currency, field="currency")
    if requested_date is not None:
        require(validate_planned_date, requested_date, field="requested_date")
    notes = notes or ""
    if len(notes) > MAX_NOTES_LENGTH:
        raise ValidationFailed(
            _("The notes are too long (at most %(max)s characters).") % {"max": MAX_NOTES_LENGTH}, field="notes"
        )
    _check_line_inputs(lines)
    _check_products(lines, known.products)
    _validate_address(ship_to)
    order_args = {
        "channel": channel_obj, "customer": customer, "known_customer": known.customer, "ship_to": ship_to,
        "lines": lines, "products": known.products, "external_ref": external_ref,
        "allow_backorder": allow_backorder, "currency": currency, "requested_date": requested_date,
        "notes": notes, "user": user,
    }
    try:
        if known.covers(lines):
            try:
                # Nested in a caller's transaction, a savepoint keeps it usable if the statement fails.
                with transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext():
                    return _create_order(**order_args, snapshot=known)
            except intake.StockMoved:
                pass  # a concurrent order took the units after our read: place it with locks
        with transaction.atomic():
            return _create_order(**order_args, snapshot=None)
    except IntegrityError as exc:
        if external_ref and "salesorder_channel_external_ref" in str(exc):
            existing = SalesOrder.objects.get(channel=channel_obj, external_ref=external_ref)
            return PlacedOrder(order=existing, created=False)
        raise
    except InsufficientStock:
        # A concurrent duplicate may have taken the stock (we waited on its row locks): then the
        # answer is that order, not "out of stock".
        if external_ref:
            existing = SalesOrder.objects.filter(channel=channel_obj, external_ref=external_ref).first()
            if existing is not None:
                return PlacedOrder(order=existing, created=False)
        raise


def _create_order(
    *, channel: Channel, customer: CustomerInput, known_customer: Customer | None, ship_to: AddressInput,
    lines: Sequence[LineInput], products: dict[str, Product], snapshot: intake.IntakeRead | None,
    external_ref: str, allow_backorder: bool, currency: str, requested_date: date | None, notes: str, user: Any,
) -> PlacedOrder:
    """Write one order.

    With a `snapshot` that covers every line: plan from it; one statement writes the order
    and reserves (orders.intake.write; raises intake.StockMoved, having written nothing, if
    the stock is gone). Without (inside the caller's transaction): insert the address and
    order rows, lock the products' stock rows, plan, reserve, write the rest.
    """
    customer_obj = _customer_for(customer, known=known_customer)
    address = Address(
        customer=customer_obj, name=(ship_to.name or customer_obj.name)[:200], line1=ship_to.line1.strip()[:200],
        line2=(ship_to.line2 or "")[:200], city=ship_to.city.strip()[:100], region=(ship_to.region or "")[:100],
        postal_code=(ship_to.postal_code or "")[:20], country=ship_to.country.upper(),
        latitude=Decimal(str(ship_to.lat)).quantize(Decimal("0.000001")) if ship_to.lat is not None else None,
        longitude=Decimal(str(ship_to.lon)).quantize(Decimal("0.000001")) if ship_to.lon is not None else None,
    )
    order_lines = []
    for index, line in enumerate(lines, start=1):
        product = products[line.sku.strip()]
        price = Decimal(line.unit_price) if line.unit_price is not None else product.list_price
        order_lines.append(OrderLine(line_no=index, product=product, quantity=line.quantity, unit_price=price))
    subtotal = _check_total(order_lines)
    order = SalesOrder(
        channel=channel, external_ref=external_ref, customer=customer_obj, ship_to=address,
        status=OrderStatus.DRAFT, currency=currency, subtotal=subtotal, total=subtotal,
        allow_backorder=allow_backorder, allocation_strategy=channel.allocation_strategy,
        requested_date=requested_date, notes=notes, created_by=_user_or_none(user),
    )
    events = [OrderEvent(order=order, kind=EventKind.CREATED, to_status=OrderStatus.DRAFT,
                         message=_("Order received from %(channel)s.") % {"channel": channel.name},
                         actor=_user_or_none(user))]
    events.append(order_transition(order=order, to=OrderStatus.CONFIRMED, actor=user, save=False))
    if snapshot is not None:
        warehouses = snapshot.warehouses
        new_allocations, _changed, reservations = _plan_lines(
            order=order, lines=order_lines, needs=_needs(order_lines), warehouses=warehouses,
            available=snapshot.available,
        )
    else:
        # The order row goes in before any stock lock, as in the hot statement: two requests
        # with the same channel + external_ref then meet on its unique key, never in a deadlock.
        address.save(force_insert=True)
        order.ship_to = address
        order.save(force_insert=True)
        warehouses = _warehouse_infos()
        new_allocations, _changed = _allocate_lines(order=order, lines=order_lines, warehouses=warehouses)
    target = _allocation_status(order_lines)
    if target != OrderStatus.ALLOCATED and not allow_backorder:
        raise InsufficientStock(
            _("Not enough stock for this order and backorders are not allowed."),
            field="lines",
            details={"short": _short_details(order_lines, {p.pk: p for p in products.values()})},
        )
    events.append(order_transition(order=order, to=target, actor=user, save=False))
    order.promised_date = _promise(order_lines, new_allocations, warehouses, order=order)
    if snapshot is not None:
        intake.write(
            address=address, order=order, lines=order_lines, allocations=new_allocations, events=events,
            message=outbox.new_message(tasks.order_placed_task), reservations=reservations,
        )
        return PlacedOrder(order=order, created=True, lines=order_lines)
    order.save(update_fields=["status", "promised_date", "updated_at"])
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    for allocation in new_allocations:
        allocation.line_id = allocation.line.pk
    Allocation.objects.bulk_create(new_allocations)
    for event in events:
        event.order = order
    OrderEvent.objects.bulk_create(events)
    outbox.enqueue(tasks.order_placed_task, kwargs={"order_id": order.pk})
    return PlacedOrder(order=order, created=True, lines=order_lines)


def _load_for_change(order: SalesOrder | int) -> tuple[SalesOrder, list[OrderLine], dict[tuple[int, int], Allocation]]:
    order = _lock_order(order)
    lines = list(order.lines.select_for_update().order_by("line_no"))
    allocations = {
        (a.line_id, a.warehouse_id): a
        for a in Allocation.objects.select_for_update().filter(line__order=order).order_by("id")
    }
    return order, lines, allocations


ALLOCATABLE_STATUSES = frozenset(
    {OrderStatus.CONFIRMED, *ALLOCATION_STATES, OrderStatus.PICKING, OrderStatus.PARTIALLY_SHIPPED}
)


def allocate_order(*, order: SalesOrder | int, user: Any = None) -> SalesOrder:
    """Reserve stock for whatever the order still has backordered; update its status."""
    order_id = order if isinstance(order, int) else order.pk
    _allocate(order=order_id, user=user, strict=True)
    return SalesOrder.objects.get(pk=order_id)


def _allocate(*, order: int, user: Any, strict: bool) -> int:
    """Allocate one order in its own transaction; returns the units newly reserved."""
    with transaction.atomic():
        order, lines, allocations = _load_for_change(order)
        if order.status not in ALLOCATABLE_STATUSES:
            if not strict:
                return 0
            raise Conflict(
                _("An order that is %(status)s cannot be allocated.") % {"status": order.get_status_display()},
                field="status",
            )
        warehouses = _warehouse_infos()
        new, changed = _allocate_lines(order=order, lines=lines, warehouses=warehouses, existing=allocations)
        if not new and not changed:
            if order.status == OrderStatus.CONFIRMED:
                # Nothing in stock: a confirmed order must still become backordered (and promised).
                _settle_status(order, lines, list(allocations.values()), user=user, warehouses=warehouses)
            return 0
        Allocation.objects.bulk_create(new)
        Allocation.objects.bulk_update(changed, ["quantity"])
        OrderLine.objects.bulk_update(lines, ["quantity_allocated"])
        allocated_units = sum(a.quantity for a in new) + sum(a.quantity for a in changed)
        OrderEvent.objects.create(
            order=order, kind=EventKind.ALLOCATED, actor=_user_or_none(user),
            message=_("%(units)s units allocated.") % {"units": allocated_units},
        )
        _settle_status(order, lines, list(allocations.values()) + new, user=user, warehouses=warehouses)
    return allocated_units


def _settle_status(
    order: SalesOrder, lines: Sequence[OrderLine], allocations: Iterable[Allocation], *, user: Any,
    warehouses: Sequence[WarehouseInfo] | None = None,
) -> None:
    """Move an order to the allocation state its lines now have (no-op if unchanged)."""
    if order.status == OrderStatus.PARTIALLY_SHIPPED:
        target = OrderStatus.PARTIALLY_SHIPPED
    else:
        target = _allocation_status(lines)
    warehouses = warehouses if warehouses is not None else _warehouse_infos()
    new_promise = _promise(lines, [a for a in allocations if a.quantity > 0], warehouses, order=order)
    if new_promise != order.promised_date:
        OrderEvent.objects.create(
            order=order, kind=EventKind.PROMISE, actor=_user_or_none(user),
            data={"from": str(order.promised_date or ""), "to": str(new_promise or "")},
        )
        order.promised_date = new_promise
        order.save(update_fields=["promised_date", "updated_at"])
    if target != order.status:
        order_transition(order=order, to=target, actor=user)


def repromise_orders(*, product_ids: Iterable[int], limit: int = 5000) -> int:
    """Supply plans changed (PO sent, dates confirmed, cancelled): renew the promised dates of
    orders waiting for these products, oldest first. Returns how many promises changed.

    Each order is re-promised in its own short transaction under its row lock.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return 0
    order_ids = (
        OrderLine.objects.filter(
            product_id__in=ids,
            quantity_backordered__gt=0,
            order__status__in=[*ALLOCATABLE_STATUSES, OrderStatus.ON_HOLD],
        )
        .order_by("order__created_at", "order_id")
        .values_list("order_id", flat=True)
    )
    seen: dict[int, None] = {}
    for order_id in order_ids.iterator(chunk_size=2000):
        seen.setdefault(order_id, None)
        if len(seen) >= limit:
            break
    warehouses = _warehouse_infos()
    changed = 0
    for order_id in seen:
        with transaction.atomic():
            order, lines, allocations = _load_for_change(order_id)
            promise = _promise(lines, [a for a in allocations.values() if a.quantity > 0], warehouses, order=order)
            if promise == order.promised_date:
                continue
            OrderEvent.objects.create(
                order=order, kind=EventKind.PROMISE,
                data={"from": str(order.promised_date or ""), "to": str(promise or "")},
                message=_("Promised date renewed after a supply change."),
            )
            order.promised_date = promise
            order.save(update_fields=["promised_date", "updated_at"])
            changed += 1
    return changed


def reallocate_backorders(*, product_ids: Iterable[int] | None = None, limit: int = 1000) -> int:
    """Offer available stock to waiting orders, oldest first; returns how many orders got stock.

    Each order is allocated in its own short transaction so locks are never held for long.
    """
    lines = OrderLine.objects.filter(
        quantity_backordered__gt=0,
        order__status__in=[OrderStatus.CONFIRMED, *ALLOCATION_STATES, OrderStatus.PICKING, OrderStatus.PARTIALLY_SHIPPED],
    )
    if product_ids is not None:
        ids = list(product_ids)
        if not ids:
            return 0
        lines = lines.filter(product_id__in=ids)
    order_ids = list(
        lines.order_by("order__created_at", "order_id").values_list("order_id", flat=True).distinct()[: limit * 5]
    )
    seen: list[int] = []
    for order_id in order_ids:
        if order_id not in seen:
            seen.append(order_id)
    served = 0
    for order_id in seen[:limit]:
        if not _has_stock_for(order_id):
            continue
        if _allocate(order=order_id, user=None, strict=False) > 0:
            served += 1
    return served


def _has_stock_for(order_id: int) -> bool:
    product_ids = OrderLine.objects.filter(order_id=order_id, quantity_backordered__gt=0).values("product_id")
    return StockLevel.objects.filter(product_id__in=product_ids, on_hand__gt=F("reserved")).exists()


def modify_order(
    *,
    order: SalesOrder | int,
    lines: Sequence[LineInput] | None = None,
    ship_to: AddressInput | None = None,
    user: Any = None,
) -> SalesOrder:
    """Replace the lines and/or ship-to address, re-reserving in the same transaction."""
    products = _validate_lines(lines) if lines is not None else {}
    if ship_to is not None:
        _validate_address(ship_to)
    with transaction.atomic():
        order, current_lines, allocations = _load_for_change(order)
        if order.status not in MODIFIABLE_STATUSES:
            raise Conflict(
                _("An order that is %(status)s can no longer be changed.") % {"status": order.get_status_display()},
                field="status",
            )
        changes: dict[str, Any] = {}
        if ship_to is not None:
            address = order.ship_to
            for attr, value in (
                ("name", ship_to.name or address.name), ("line1", ship_to.line1.strip()), ("line2", ship_to.line2 or ""),
                ("city", ship_to.city.strip()), ("region", ship_to.region or ""), ("postal_code", ship_to.postal_code or ""),
                ("country", ship_to.country.upper()),
                ("latitude", Decimal(str(ship_to.lat)).quantize(Decimal("0.000001")) if ship_to.lat is not None else None),
                ("longitude", Decimal(str(ship_to.lon)).quantize(Decimal("0.000001")) if ship_to.lon is not None else None),
            ):
                setattr(address, attr, value)
            address.save()
            changes["ship_to"] = str(address)
            if lines is None and order.allocation_strategy == AllocationStrategy.NEAREST and current_lines:
                # A new destination may have a nearer warehouse: re-reserve the same lines.
                by_id = Product.objects.in_bulk({line.product_id for line in current_lines})
                products = {by_id[line.product_id].sku: by_id[line.product_id] for line in current_lines}
                lines = [
                    LineInput(sku=by_id[line.product_id].sku, quantity=line.quantity, unit_price=line.unit_price)
                    for line in current_lines
                ]
        if lines is not None:
            # Lock the stock rows of the old and the new products together, in lock order, first:
            # releasing (old rows) and then reserving (new rows) would take locks out of order and
            # deadlock against concurrent orders.
            stock.lock_stock_levels(
                product_ids={line.product_id for line in current_lines} | {p.pk for p in products.values()}
            )
            # Give back everything, rewrite the lines, then allocate afresh.
            _release_allocations(current_lines, allocations)
            Allocation.objects.filter(line__order=order).delete()
            OrderLine.objects.filter(order=order).delete()
            new_lines = []
            for index, line in enumerate(lines, start=1):
                product = products[line.sku.strip()]
                price = Decimal(line.unit_price) if line.unit_price is not None else product.list_price
                new_lines.append(OrderLine(order=order, line_no=index, product=product, quantity=line.quantity, unit_price=price))
            total = _check_total(new_lines)
            OrderLine.objects.bulk_create(new_lines)
            new_allocations, _changed = _allocate_lines(order=order, lines=new_lines, warehouses=_warehouse_infos())
            if _allocation_status(new_lines) != OrderStatus.ALLOCATED and not order.allow_backorder:
                raise InsufficientStock(
                    _("Not enough stock for the changed order and backorders are not allowed."),
                    field="lines",
                    details={"short": _short_details(new_lines, {p.pk: p for p in products.values()})},
                )
            Allocation.objects.bulk_create(new_allocations)
            OrderLine.objects.bulk_update(new_lines, ["quantity_allocated"])
            order.subtotal = order.total = total
            order.save(update_fields=["subtotal", "total", "updated_at"])
            changes["lines"] = [{"sku": line.sku, "quantity": line.quantity} for line in lines]
            current_lines, current_allocations = new_lines, new_allocations
        else:
            current_allocations = list(allocations.values())
        OrderEvent.objects.create(
            order=order, kind=EventKind.MODIFIED, actor=_user_or_none(user), data=changes,
            message=_("Order changed."),
        )
        if order.status in ALLOCATION_STATES or order.status == OrderStatus.CONFIRMED:
            _settle_status(order, current_lines, current_allocations, user=user)
    return order


def _release_allocations(lines: Sequence[OrderLine], allocations: dict[tuple[int, int], Allocation]) -> None:
    product_of = {line.pk: line.product_id for line in lines}
    to_release = [
        stock.StockLine(product_of[a.line_id], a.warehouse_id, a.quantity)
        for a in allocations.values()
        if a.quantity > 0
    ]
    stock.stock_release(lines=to_release)


def cancel_order(*, order: SalesOrder | int, reason: str, user: Any = None) -> SalesOrder:
    """Cancel what has not shipped and give its reserved stock back."""
    if not reason or not reason.strip():
        raise ValidationFailed(_("Give a reason for the cancellation."), field="reason")
    with transaction.atomic():
        order, lines, allocations = _load_for_change(order)
        if order.status not in CANCELLABLE_STATUSES:
            raise Conflict(
                _("An order that is %(status)s cannot be cancelled.") % {"status": order.get_status_display()},
                field="status",
            )
        _release_allocations(lines, allocations)
        for allocation in allocations.values():
            allocation.quantity = 0
        Allocation.objects.bulk_update(list(allocations.values()), ["quantity"])
        for line in lines:
            line.quantity_cancelled = line.quantity - line.quantity_shipped
            line.quantity_allocated = 0
        OrderLine.objects.bulk_update(lines, ["quantity_cancelled", "quantity_allocated"])
        order.cancel_reason = reason.strip()[:255]
        order_transition(order=order, to=OrderStatus.CANCELLED, actor=user, reason=order.cancel_reason)
    return order


def hold_order(*, order: SalesOrder | int, reason: str, user: Any = None) -> SalesOrder:
    """Stop an order where it is (reservations are kept) until someone releases the hold."""
    if not reason or not reason.strip():
        raise ValidationFailed(_("Give a reason for the hold."), field="reason")
    with transaction.atomic():
        order = _lock_order(order)
        previous = order.status
        if not can_transition(previous, OrderStatus.ON_HOLD):
            raise Conflict(
                _("An order that is %(status)s cannot be put on hold.") % {"status": order.get_status_display()},
                field="status",
            )
        order.status_before_hold = previous
        order.hold_reason = reason.strip()[:255]
        order_transition(order=order, to=OrderStatus.ON_HOLD, actor=user, reason=order.hold_reason)
    return order


def release_hold(*, order: SalesOrder | int, user: Any = None) -> SalesOrder:
    with transaction.atomic():
        order = _lock_order(order)
        if order.status != OrderStatus.ON_HOLD:
            raise Conflict(_("The order is not on hold."), field="status")
        target = order.status_before_hold or OrderStatus.CONFIRMED
        order.status_before_hold = ""
        order.hold_reason = ""
        order_transition(order=order, to=target, actor=user, reason=_("Hold released."))
    return order


def start_picking(*, order: SalesOrder | int, user: Any = None) -> SalesOrder:
    with transaction.atomic():
        order = _lock_order(order)
        order_transition(order=order, to=OrderStatus.PICKING, actor=user)
    return order


def ship_order(
    *,
    order: SalesOrder | int,
    quantities: dict[int, int] | None = None,
    user: Any = None,
    reference: str = "",
    shipped_at: datetime | None = None,
) -> dict[int, int]:
    """Ship allocated units (all of them, or `quantities` per line id); returns {line_id: shipped}.

    Issues stock from the allocations' warehouses (ledger rows), records shipped quantities
    and moves the order to partially_shipped or shipped. Shipping more than is allocated is
    refused. `shipped_at` records a shipment keyed in after it left (ledger time).
    """
    with transaction.atomic():
        order, lines, allocations = _load_for_change(order)
        if order.status not in SHIPPABLE_STATUSES:
            raise Conflict(
                _("An order that is %(status)s cannot be shipped.") % {"status": order.get_status_display()},
                field="status",
            )
        by_id = {line.pk: line for line in lines}
        wanted = quantities if quantities is not None else {line.pk: line.quantity_allocated for line in lines}
        for line_id, quantity in wanted.items():
            line = by_id.get(line_id)
            if line is None:
                raise ValidationFailed(_("Line %(id)s is not part of this order.") % {"id": line_id}, field="lines")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise ValidationFailed(_("Quantity must be a whole number, zero or more."), field=f"lines.{line_id}")
            if quantity > line.quantity_allocated:
                raise Conflict(
                    _("Cannot ship %(quantity)s of line %(line)s: only %(allocated)s allocated.")
                    % {"quantity": quantity, "line": line.line_no, "allocated": line.quantity_allocated},
                    field=f"lines.{line_id}",
                )
        issues: list[stock.StockLine] = []
        shipped: dict[int, int] = {}
        for line_id, quantity in wanted.items():
            if quantity == 0:
                continue
            line = by_id[line_id]
            remaining = quantity
            for allocation in sorted(
                (a for a in allocations.values() if a.line_id == line_id and a.quantity > 0),
                key=lambda a: a.warehouse_id,
            ):
                take = min(remaining, allocation.quantity)
                allocation.quantity -= take
                allocation.quantity_shipped += take
                issues.append(stock.StockLine(line.product_id, allocation.warehouse_id, take))
                remaining -= take
                if remaining == 0:
                    break
            line.quantity_allocated -= quantity
            line.quantity_shipped += quantity
            shipped[line_id] = quantity
        if not issues:
            raise ValidationFailed(_("Nothing to ship."), field="lines")
        stock.stock_issue_for_shipment(
            lines=issues, reference=reference or order.number, user=user, occurred_at=shipped_at
        )
        Allocation.objects.bulk_update(list(allocations.values()), ["quantity", "quantity_shipped"])
        OrderLine.objects.bulk_update(lines, ["quantity_allocated", "quantity_shipped"])
        OrderEvent.objects.create(
            order=order, kind=EventKind.SHIPPED, actor=_user_or_none(user),
            data={"lines": {str(k): v for k, v in shipped.items()}, "reference": reference},
            message=_("%(units)s units shipped.") % {"units": sum(shipped.values())},
        )
        complete = all(line.quantity_shipped + line.quantity_cancelled >= line.quantity for line in lines)
        order_transition(
            order=order, to=OrderStatus.SHIPPED if complete else OrderStatus.PARTIALLY_SHIPPED, actor=user
        )
    return shipped


def mark_delivered(*, order: SalesOrder | int, user: Any = None) -> SalesOrder:
    with transaction.atomic():
        order = _lock_order(order)
        order_transition(order=order, to=OrderStatus.DELIVERED, actor=user)
    return order


def close_order(*, order: SalesOrder | int, user: Any = None) -> SalesOrder:
    with transaction.atomic():
        order = _lock_order(order)
        order_transition(order=order, to=OrderStatus.CLOSED, actor=user)
    return order


def confirm_order(*, order: SalesOrder | int, user: Any = None) -> SalesOrder:
    """Confirm a draft and allocate it."""
    with transaction.atomic():
        order = _lock_order(order)
        order_transition(order=order, to=OrderStatus.CONFIRMED, actor=user)
    return allocate_order(order=order, user=user)
