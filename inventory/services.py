"""Every change of stock: the ledger, reservations and shipments. The only writer of StockLevel.

Locking: rows of StockLevel are always locked in (product_id, warehouse_id) order — either by
`SELECT … ORDER BY … FOR UPDATE` or inside a single guarded UPDATE whose sub-select locks in that
order — so concurrent callers never deadlock and never reserve more than on hand. Callers own
the outer transaction; each function here is atomic on its own (a savepoint when nested).
Nothing slow (HTTP, email, PDF) may run while these locks are held.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import Conflict, InsufficientStock, ValidationFailed
from core.inputs import check_quantity, user_or_none
from core.limits import MAX_QUANTITY, integer_max
from inventory import hooks
from inventory.models import MovementKind, Product, StockLevel, StockMovement, Warehouse

# The most units one stock row can hold: the range of its integer column.
MAX_ON_HAND = integer_max(StockLevel._meta.get_field("on_hand"))


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product in one warehouse (ids only: inventory knows no orders)."""

    product_id: int
    warehouse_id: int
    quantity: int


@dataclass(frozen=True)
class _Change:
    product_id: int
    warehouse_id: int
    quantity: int  # signed change of on_hand
    kind: str
    reserved_delta: int = 0


def movement_hash(
    previous: str,
    *,
    product_id: int,
    warehouse_id: int,
    kind: str,
    quantity: int,
    balance_after: int,
    reference: str,
    created_at: datetime,
) -> str:
    payload = "|".join(
        [
            previous,
            str(product_id),
            str(warehouse_id),
            kind,
            str(quantity),
            str(balance_after),
            reference,
            created_at.astimezone(UTC).isoformat(),
        ]
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _merge(lines: Iterable[StockLine]) -> list[StockLine]:
    """One entry per stock row, in lock order."""
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for line in lines:
        check_quantity(line.quantity)
        totals[(line.product_id, line.warehouse_id)] += line.quantity
    return [StockLine(p, w, q) for (p, w), q in sorted(totals.items())]


def ensure_stock_rows(pairs: Iterable[tuple[int, int]]) -> None:
    StockLevel.objects.bulk_create(
        [StockLevel(product_id=p, warehouse_id=w) for p, w in sorted(set(pairs))],
        ignore_conflicts=True,
    )


def lock_stock_levels(*, product_ids: Iterable[int], warehouse_ids: Iterable[int] | None = None) -> list[StockLevel]:
    """Lock and return the stock rows of these products, in lock order."""
    queryset = StockLevel.objects.select_for_update().filter(product_id__in=sorted(set(product_ids)))
    if warehouse_ids is not None:
        queryset = queryset.filter(warehouse_id__in=list(warehouse_ids))
    return list(queryset.order_by("product_id", "warehouse_id"))


MAX_BACKDATE = timedelta(days=400)


def _occurred(occurred_at: datetime | None) -> datetime:
    """When the movement physically happened: now, or a moment in the past (a late entry)."""
    now = timezone.now()
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise ValidationFailed(_("The movement time needs a time zone."), field="occurred_at")
    if occurred_at > now + timedelta(minutes=5):
        raise ValidationFailed(_("A movement cannot happen in the future."), field="occurred_at")
    if occurred_at < now - MAX_BACKDATE:
        raise ValidationFailed(_("A movement cannot be back-dated more than 400 days."), field="occurred_at")
    return occurred_at


def _post(
    changes: Sequence[_Change],
    *,
    reason: str,
    reference: str,
    user: Any = None,
    occurred_at: datetime | None = None,
) -> list[StockMovement]:
    """Apply on-hand changes with their ledger rows, under row locks taken in order.

    Each stock row appears at most once in `changes`, so each gets at most one new ledger row,
    chained to that row's head (`ledger_hash`); the rows are inserted by one statement, whose
    order among different stock rows does not matter to their chains. `occurred_at` back-dates
    the rows' time (a shipment keyed in late); the ledger order — and the hash chain — stay the
    order of posting.
    """
    now = _occurred(occurred_at)
    pairs = {(c.product_id, c.warehouse_id) for c in changes}
    if len(pairs) != len(changes):
        raise ValueError("one change per stock row: merge the lines first")
    with transaction.atomic():
        ensure_stock_rows(pairs)
        levels = {
            (level.product_id, level.warehouse_id): level
            for level in lock_stock_levels(
                product_ids={p for p, _ in pairs}, warehouse_ids={w for _, w in pairs}
            )
            if (level.product_id, level.warehouse_id) in pairs
        }
        movements: list[StockMovement] = []
        short: list[dict[str, int]] = []
        for change in changes:
            level = levels[(change.product_id, change.warehouse_id)]
            on_hand = level.on_hand + change.quantity
            reserved = level.reserved + change.reserved_delta
            if on_hand > MAX_ON_HAND:
                raise Conflict(
                    _("This would take on hand to %(on_hand)s units; one stock level holds at most %(max)s.")
                    % {"on_hand": on_hand, "max": MAX_ON_HAND},
                    field="quantity",
                    details={"product_id": change.product_id, "warehouse_id": change.warehouse_id,
                             "on_hand": level.on_hand, "requested": change.quantity, "max_on_hand": MAX_ON_HAND},
                )
            if on_hand < 0 or reserved < 0 or reserved > on_hand:
                short.append(
                    {
                        "product_id": change.product_id,
                        "warehouse_id": change.warehouse_id,
                        "on_hand": level.on_hand,
                        "reserved": level.reserved,
                        "requested": change.quantity,
                    }
                )
                continue
            level.on_hand, level.reserved = on_hand, reserved
            level.ledger_hash = movement_hash(
                level.ledger_hash,
                product_id=change.product_id,
                warehouse_id=change.warehouse_id,
                kind=change.kind,
                quantity=change.quantity,
                balance_after=on_hand,
                reference=reference,
                created_at=now,
            )
            movements.append(
                StockMovement(
                    product_id=change.product_id,
                    warehouse_id=change.warehouse_id,
                    kind=change.kind,
                    quantity=change.quantity,
                    balance_after=on_hand,
                    reason=reason[:255],
                    reference=reference[:100],
                    user=user_or_none(user),
                    created_at=now,
                    hash=level.ledger_hash,
                )
            )
        if short:
            raise InsufficientStock(
                _("Not enough stock: the change would leave less on hand than is reserved."),
                field="quantity",
                details=short,
            )
        StockMovement.objects.bulk_create(movements)
        # bulk_update writes one CASE per column over the batch: keep batches small, its cost
        # grows with batch size times rows
        StockLevel.objects.bulk_update(
            list(levels.values()), ["on_hand", "reserved", "ledger_hash", "updated_at"], batch_size=500
        )
        hooks.stock_arrived({c.product_id for c in changes if c.quantity > 0 and c.reserved_delta == 0})
    return movements


def _resolve(product: Product | int, warehouse: Warehouse | int) -> tuple[int, int]:
    return (product if isinstance(product, int) else product.pk, warehouse if isinstance(warehouse, int) else warehouse.pk)


def stock_receive(
    *, product: Product | int, warehouse: Warehouse | int, quantity: int, reference: str = "",
    reason: str = "", user: Any = None, kind: str = MovementKind.RECEIPT, occurred_at: datetime | None = None,
) -> StockMovement:
    """Goods in (purchase receipt, customer return, opening balance)."""
    check_quantity(quantity)
    product_id, warehouse_id = _resolve(product, warehouse)
    return _post(
        [_Change(product_id, warehouse_id, quantity, kind)],
        reason=reason, reference=reference, user=user, occurred_at=occurred_at,
    )[0]


def stock_receive_many(
    *, lines: Iterable[StockLine], reference: str = "", reason: str = "", user: Any = None,
    kind: str = MovementKind.RECEIPT, occurred_at: datetime | None = None,
) -> list[StockMovement]:
    """Goods in for many stock rows at once (a purchase receipt, opening balances, bulk loads).

    One transaction whatever the number of lines: the rows are locked in (product, warehouse)
    order, each gets one ledger row (lines naming the same row are added up) chained to its
    previous one, and stock_arrived is called once for all the products.
    """
    merged = _merge(lines)
    return _post(
        [_Change(line.product_id, line.warehouse_id, line.quantity, kind) for line in merged],
        reason=reason, reference=reference, user=user, occurred_at=occurred_at,
    )


def stock_adjust(
    *, product: Product | int, warehouse: Warehouse | int, quantity: int, reason: str,
    user: Any = None, reference: str = "",
) -> StockMovement:
    """A signed manual correction; refused if it would leave less than is reserved."""
    check_quantity(quantity, allow_negative=True)
    if not reason or not reason.strip():
        raise ValidationFailed(_("A reason is required for a stock adjustment."), field="reason")
    product_id, warehouse_id = _resolve(product, warehouse)
    return _post(
        [_Change(product_id, warehouse_id, quantity, MovementKind.ADJUSTMENT)],
        reason=reason.strip(), reference=reference, user=user,
    )[0]


def stock_transfer(
    *, product: Product | int, from_warehouse: Warehouse | int, to_warehouse: Warehouse | int,
    quantity: int, reason: str = "", user: Any = None, reference: str = "",
) -> list[StockMovement]:
    """Move available units between warehouses (out and in posted together)."""
    check_quantity(quantity)
    product_id, source_id = _resolve(product, from_warehouse)
    target_id = _resolve(product_id, to_warehouse)[1]  # not `_, …`: that would shadow gettext
    if source_id == target_id:
        raise ValidationFailed(_("Choose two different warehouses."), field="to_warehouse")
    return _post(
        [
            _Change(product_id, source_id, -quantity, MovementKind.TRANSFER_OUT),
            _Change(product_id, target_id, quantity, MovementKind.TRANSFER_IN),
        ],
        reason=reason, reference=reference, user=user,
    )


def stock_count(
    *, product: Product | int, warehouse: Warehouse | int, counted: int, user: Any = None, reason: str = "",
) -> StockMovement | None:
    """Cycle count: post the difference between the counted and the booked quantity."""
    if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
        raise ValidationFailed(_("The counted quantity must be a whole number, zero or more."), field="counted")
    if counted > MAX_QUANTITY:
        raise ValidationFailed(
            _("The counted quantity is too large (at most %(max)s).") % {"max": MAX_QUANTITY}, field="counted"
        )
    product_id, warehouse_id = _resolve(product, warehouse)
    with transaction.atomic():
        ensure_stock_rows([(product_id, warehouse_id)])
        level = lock_stock_levels(product_ids=[product_id], warehouse_ids=[warehouse_id])[0]
        difference = counted - level.on_hand
        if difference == 0:
            return None
        if counted < level.reserved:
            raise Conflict(
                _("Counted %(counted)s but %(reserved)s are reserved: reallocate those orders first.")
                % {"counted": counted, "reserved": level.reserved},
                field="counted",
            )
        return _post(
            [_Change(product_id, warehouse_id, difference, MovementKind.COUNT_CORRECTION)],
            reason=reason or _("cycle count"), reference="", user=user,
        )[0]


_RELEASE_SQL = """
UPDATE inventory_stocklevel AS s
   SET reserved = s.reserved - r.quantity, updated_at = now()
  FROM (SELECT sl.id, req.quantity
          FROM inventory_stocklevel sl
          JOIN unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS req(product_id, warehouse_id, quantity)
            ON sl.product_id = req.product_id AND sl.warehouse_id = req.warehouse_id
         ORDER BY sl.product_id, sl.warehouse_id
           FOR UPDATE OF sl) AS r
 WHERE s.id = r.id AND s.reserved >= r.quantity
RETURNING s.product_id, s.warehouse_id
"""


def _guarded_update(sql: str, lines: list[StockLine]) -> set[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                [line.product_id for line in lines],
                [line.warehouse_id for line in lines],
                [line.quantity for line in lines],
            ],
        )
        return {(row[0], row[1]) for row in cursor.fetchall()}


def stock_reserve(*, lines: Iterable[StockLine]) -> None:
    """Reserve all lines or none: the guarded reservation of `reservation_sql`, rows locked in order.

    Raises InsufficientStock (409) listing the rows that lacked available units; nothing was
    reserved then (no savepoint is taken, to keep the order path short).
    """
    reservation = reservation_sql(lines=lines)
    if not reservation.lines:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {reservation.ctes} "  # noqa: S608 — inventory's own CTEs
            "SELECT l.product_id, l.warehouse_id, l.enough, (SELECT count(*) FROM stock_reserved) FROM stock_locked l",
            reservation.params,
        )
        rows = cursor.fetchall()
    if rows and rows[0][3] == len(reservation.lines):
        return
    enough = {(product_id, warehouse_id) for product_id, warehouse_id, ok, _reserved in rows if ok}
    raise InsufficientStock(_("Not enough available stock."), details=[
        {"product_id": line.product_id, "warehouse_id": line.warehouse_id, "requested": line.quantity}
        for line in reservation.lines
        if (line.product_id, line.warehouse_id) not in enough
    ])


# SQLSTATE of inventory_require_reserved (migration 0003): the reservation came up short.
STOCK_MOVED_SQLSTATE = "SC001"


@dataclass(frozen=True)
class ReservationSQL:
    """`stock_reserve` as the last part of a caller's single statement (see `reservation_sql`)."""

    ctes: str  # "stock_locked AS (…), stock_reserved AS (…)"; three %s parameters
    params: list[list[int]]
    lines: list[StockLine]  # one per stock row, in lock order
    check: str  # an SQL expression the statement must evaluate; it raises if the reservation fell short


_RESERVATION_CTES = """
stock_locked AS (
    SELECT sl.id, sl.product_id, sl.warehouse_id, req.quantity, sl.available >= req.quantity AS enough
      FROM inventory_stocklevel sl
      JOIN unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS req(product_id, warehouse_id, quantity)
        ON sl.product_id = req.product_id AND sl.warehouse_id = req.warehouse_id
     WHERE {after}
     ORDER BY sl.product_id, sl.warehouse_id
       FOR UPDATE OF sl
), stock_reserved AS (
    UPDATE inventory_stocklevel AS s
       SET reserved = s.reserved + l.quantity, updated_at = now()
      FROM stock_locked AS l
     WHERE s.id = l.id AND s.available >= l.quantity
       AND (SELECT count(*) = {rows} AND bool_and(enough) FROM stock_locked)
    RETURNING s.id
)"""


def reservation_sql(*, lines: Iterable[StockLine], after: str = "true") -> ReservationSQL:
    """The guarded reservation, all lines or none (`stock_reserve` runs it alone), for a caller that writes
    its own rows in the same statement (order intake: one round trip, and the stock rows stay
    locked only from the end of that statement to its commit — never while a client thinks).

    `after` is an SQL condition on the caller's other CTEs (e.g. `(SELECT count(*) FROM event) > 0`):
    evaluating it first makes PostgreSQL run those writes before it takes any stock lock. The
    rows are then locked in (product, warehouse) order; under READ COMMITTED the lock returns
    each row's latest committed version, so `enough` judges current stock, and only if every
    row has enough are they all updated. The statement must evaluate `check`, which raises
    SQLSTATE STOCK_MOVED_SQLSTATE when they were not — failing the statement, so it writes
    nothing at all.
    """
    merged = _merge(lines)
    return ReservationSQL(
        ctes=_RESERVATION_CTES.format(rows=len(merged), after=after),
        params=[
            [line.product_id for line in merged],
            [line.warehouse_id for line in merged],
            [line.quantity for line in merged],
        ],
        lines=merged,
        check=f"inventory_require_reserved({len(merged)}, (SELECT count(*) FROM stock_reserved))",  # noqa: S608
    )


def stock_release(*, lines: Iterable[StockLine], notify: bool = True) -> None:
    """Give reserved units back to available (cancel, modify, reallocate).

    With `notify`, the freed units are offered to waiting backorders (hooks.stock_arrived).
    """
    merged = _merge(lines)
    if not merged:
        return
    with transaction.atomic():
        done = _guarded_update(_RELEASE_SQL, merged)
        if len(done) != len(merged):
            raise Conflict(_("Cannot release more than is reserved."), details=[
                {"product_id": line.product_id, "warehouse_id": line.warehouse_id, "quantity": line.quantity}
                for line in merged if (line.product_id, line.warehouse_id) not in done
            ])
        if notify:
            hooks.stock_arrived({line.product_id for line in merged})


def stock_issue_for_shipment(
    *, lines: Iterable[StockLine], reference: str, user: Any = None, occurred_at: datetime | None = None
) -> list[StockMovement]:
    """Reserved units leave the building: on_hand and reserved go down together."""
    merged = _merge(lines)
    return _post(
        [_Change(line.product_id, line.warehouse_id, -line.quantity, MovementKind.SHIPMENT, -line.quantity)
         for line in merged],
        reason="", reference=reference, user=user, occurred_at=occurred_at,
    )
