"""Demo orders for `seed_demo`: channels, ~50 customers, ~500 orders over the last 90 days.

Every order is made by the real use cases — place_order, then start_picking / ship_order /
mark_delivered / close_order / cancel_order / hold_order — so reservations, allocations and the
stock ledger are exactly what production would have written. Drafts are the one exception: no
use case creates a draft yet (staff type them in), so the few demo drafts are built directly;
they reserve nothing, and confirming one goes through `order_transition`.

Demo history. The services stamp everything "now", so after seeding, `created_at` of the new
orders, their events and allocations (and of the demo customers) is moved back to the order's
place in the 90-day history with set-based updates, and promised dates move with them. The stock
ledger keeps its real timestamps: it is append-only and hash-chained, and rewriting it is exactly
what `verify_ledger` must catch. The notifications and reallocations the seeding enqueued are
marked processed in the same transaction: they describe history, and nobody should be e-mailed
about it (the relay never publishes a processed message).

Idempotent: the orders carry the external references DEMO-0001…; all of them are written in one
transaction, so once any exists the history is complete and a second run only makes sure the
channels exist. A fixed random seed makes every database get the same history.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, OuterRef, Subquery, Value
from django.db.models.functions import Least
from django.utils import timezone

from core.demo import outbox_high_water_mark, settle_outbox
from core.exceptions import InsufficientStock
from inventory.demo import demo_products, stock_profile
from orders import services, tasks
from orders.models import Address, Allocation, Channel, Customer, OrderEvent, OrderLine, SalesOrder
from orders.statuses import AllocationStrategy, ChannelKind, EventKind, OrderStatus

S = OrderStatus
SEED = 20240604
ORDER_COUNT = 500
HISTORY_DAYS = 90
REFERENCE_PREFIX = "DEMO-"
SEEDED_TASKS = (tasks.order_placed_task, tasks.order_status_changed_task, tasks.reallocate_backorders_task)

# code, name, kind, allocation strategy, share of orders
CHANNELS = [
    ("web", "Web shop", ChannelKind.WEB, AllocationStrategy.PRIORITY, 45),
    ("marketplace", "Tmall marketplace", ChannelKind.MARKETPLACE, AllocationStrategy.NEAREST, 25),
    ("store", "Shanghai flagship store", ChannelKind.STORE, AllocationStrategy.NEAREST, 15),
    ("phone", "Phone orders", ChannelKind.PHONE, AllocationStrategy.FEWEST_SPLITS, 15),
]

# city, region, postal code, latitude, longitude
CITIES = [
    ("Shanghai", "Shanghai", "200000", 31.2304, 121.4737),
    ("Beijing", "Beijing", "100000", 39.9042, 116.4074),
    ("Guangzhou", "Guangdong", "510000", 23.1291, 113.2644),
    ("Shenzhen", "Guangdong", "518000", 22.5431, 114.0579),
    ("Hangzhou", "Zhejiang", "310000", 30.2741, 120.1551),
    ("Chengdu", "Sichuan", "610000", 30.5728, 104.0668),
    ("Wuhan", "Hubei", "430000", 30.5928, 114.3055),
    ("Nanjing", "Jiangsu", "210000", 32.0603, 118.7969),
    ("Tianjin", "Tianjin", "300000", 39.3434, 117.3616),
    ("Xi'an", "Shaanxi", "710000", 34.3416, 108.9398),
    ("Chongqing", "Chongqing", "400000", 29.5630, 106.5516),
    ("Suzhou", "Jiangsu", "215000", 31.2990, 120.5853),
]
STREETS = ["Nanjing Road", "Huaihai Road", "Renmin Road", "Jiefang Road", "Zhongshan Road", "Jianguo Road",
           "Binjiang Avenue", "Xinhua Road", "Heping Street", "Changan Avenue"]
FAMILY_NAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
                "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao"]
GIVEN_NAMES = ["Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun", "Hui", "Xin", "Tao", "Ling",
               "Bo", "Yu", "Hao", "Mei", "Chen", "Yi", "Lan"]
CUSTOMER_COUNT = 50
HOLD_REASONS = ["payment under review", "customer asked to wait", "address to be confirmed", "fraud check"]
CANCEL_REASONS = ["customer changed their mind", "duplicate order", "payment failed", "found it cheaper elsewhere"]

# Lifecycle milestones (hours after placing) used to spread the history of each order.
MILESTONE_HOURS = {
    S.ON_HOLD: 2, S.CANCELLED: 5, S.PICKING: 4, S.PARTIALLY_SHIPPED: 30, S.SHIPPED: 30,
    S.DELIVERED: 80, S.CLOSED: 250,
}
# Which outcomes an order may have reached, by its age in days: (minimum age, status, weight).
OUTCOMES = [
    (10.5, S.CLOSED, 30), (3.5, S.DELIVERED, 22), (1.3, S.SHIPPED, 12), (1.2, S.PARTIALLY_SHIPPED, 5),
    (0.2, S.CANCELLED, 7), (0.0, S.ALLOCATED, 7), (0.2, S.PICKING, 5), (0.0, S.PARTIALLY_ALLOCATED, 4),
    (0.0, S.BACKORDERED, 5), (0.1, S.ON_HOLD, 3),
]
RECENT = [(S.ALLOCATED, 30), (S.PICKING, 12), (S.PARTIALLY_ALLOCATED, 10), (S.BACKORDERED, 10), (S.ON_HOLD, 6),
          (S.CANCELLED, 4)]


@dataclass(frozen=True)
class PlannedCustomer:
    name: str
    email: str
    phone: str
    city: int
    street: str


@dataclass(frozen=True)
class PlannedOrder:
    reference: str
    channel: str
    customer: PlannedCustomer
    created_at: datetime
    outcome: str
    lines: tuple[tuple[str, int], ...]
    allow_backorder: bool
    reason: str


def _write(stdout: Any, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _plan_customers(rng: random.Random) -> list[PlannedCustomer]:
    customers, seen = [], set()
    while len(customers) < CUSTOMER_COUNT:
        family, given = rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES)
        email = f"{given.lower()}.{family.lower()}{len(customers) + 1}@example.com"
        if email in seen:
            continue
        seen.add(email)
        customers.append(PlannedCustomer(
            name=f"{family} {given}", email=email, phone=f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} "
                                                           f"{rng.randint(1000, 9999)}",
            city=rng.randrange(len(CITIES)), street=f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
        ))
    return customers


def _pick_outcome(rng: random.Random, age_days: float) -> str:
    if age_days < 1.0:
        statuses, weights = zip(*RECENT, strict=True)
    else:
        choices = [(status, weight) for minimum, status, weight in OUTCOMES if age_days >= minimum]
        statuses, weights = zip(*choices, strict=True)
    return rng.choices(statuses, weights=weights)[0]


def plan_orders(skus_by_profile: dict[str, list[str]], now: datetime) -> list[PlannedOrder]:
    """The same 500 orders every run (fixed seed), oldest first."""
    rng = random.Random(SEED)  # noqa: S311 — demo data, not security
    customers = _plan_customers(rng)
    moments = sorted(now - timedelta(seconds=rng.uniform(600, HISTORY_DAYS * 86400)) for _ in range(ORDER_COUNT))
    channel_codes = [code for code, *_rest in CHANNELS]
    channel_weights = [share for *_rest, share in CHANNELS]
    in_stock, out_of_stock = skus_by_profile["plenty"], skus_by_profile["out"]
    plans = []
    for number, moment in enumerate(moments, start=1):
        age_days = (now - moment).total_seconds() / 86400
        outcome = _pick_outcome(rng, age_days)
        channel = rng.choices(channel_codes, weights=channel_weights)[0]
        customer = customers[number - 1] if number <= CUSTOMER_COUNT else rng.choice(customers)
        count = rng.choices([1, 2, 3, 4], weights=[45, 30, 17, 8])[0]
        skus = rng.sample(in_stock, count)
        if outcome == S.BACKORDERED:
            skus = rng.sample(out_of_stock, min(count, 2))
        elif outcome == S.PARTIALLY_ALLOCATED:
            skus = [*skus[:2], rng.choice(out_of_stock)]
        lines = tuple((sku, rng.choices([1, 2, 3, 5], weights=[55, 25, 12, 8])[0]) for sku in skus)
        reason = rng.choice(CANCEL_REASONS if outcome == S.CANCELLED else HOLD_REASONS)
        plans.append(PlannedOrder(
            reference=f"{REFERENCE_PREFIX}{number:04d}", channel=channel, customer=customer, created_at=moment,
            outcome=outcome, lines=lines, reason=reason,
            # Store and some web orders must ship from stock; anything may wait when it was planned to.
            allow_backorder=outcome in (S.BACKORDERED, S.PARTIALLY_ALLOCATED) or channel != "store",
        ))
    return plans


def _channels() -> None:
    for code, name, kind, strategy, _share in CHANNELS:
        Channel.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "allocation_strategy": strategy})


def _staff() -> dict[str, Any]:
    users = get_user_model().objects.filter(username__in=["operations", "warehouse"])
    return {user.username: user for user in users}


def _ship_to(customer: PlannedCustomer, rng: random.Random) -> services.AddressInput:
    city, region, postal_code, latitude, longitude = CITIES[customer.city]
    return services.AddressInput(
        name=customer.name, line1=customer.street, city=city, region=region, postal_code=postal_code, country="CN",
        lat=round(latitude + rng.uniform(-0.05, 0.05), 6), lon=round(longitude + rng.uniform(-0.05, 0.05), 6),
    )


def _ship_time(plan: PlannedOrder) -> datetime:
    """Demo history: the shipment left a day after the (back-dated) order, so the ledger — and
    the demand forecast built from it — shows 90 days of real-looking movement."""
    return min(plan.created_at + timedelta(days=1), timezone.now())


def _drive(order: SalesOrder, plan: PlannedOrder, staff: dict[str, Any]) -> None:
    """Take a freshly placed order to its planned outcome through the use cases."""
    operations, warehouse = staff.get("operations"), staff.get("warehouse")
    outcome = plan.outcome
    if outcome == S.CANCELLED:
        services.cancel_order(order=order, reason=plan.reason, user=operations)
        return
    if outcome == S.ON_HOLD:
        services.hold_order(order=order, reason=plan.reason, user=operations)
        return
    if order.status != S.ALLOCATED or outcome in (S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.BACKORDERED):
        return  # it waits for stock (or was meant to)
    if outcome == S.PICKING:
        services.start_picking(order=order, user=warehouse)
        return
    if outcome == S.PARTIALLY_SHIPPED:
        lines = list(order.lines.order_by("line_no"))
        first = lines[0]
        if len(lines) == 1 and first.quantity_allocated < 2:
            outcome = S.SHIPPED  # nothing to split: it ships whole
        else:
            part = first.quantity_allocated if len(lines) > 1 else first.quantity_allocated - 1
            services.ship_order(order=order, quantities={first.pk: part}, user=warehouse, shipped_at=_ship_time(plan))
            return
    services.ship_order(order=order, user=warehouse, shipped_at=_ship_time(plan))
    if outcome in (S.DELIVERED, S.CLOSED):
        services.mark_delivered(order=order)
    if outcome == S.CLOSED:
        services.close_order(order=order, user=operations)


def _draft(plan: PlannedOrder, rng: random.Random, staff: dict[str, Any], *, confirm: bool) -> SalesOrder:
    """A phone order still being typed in (no use case creates drafts: built directly, reserves nothing)."""
    from inventory.models import Product

    channel = Channel.objects.get(code="phone")
    customer, _created = Customer.objects.get_or_create(
        email=plan.customer.email, defaults={"name": plan.customer.name, "phone": plan.customer.phone}
    )
    ship = _ship_to(plan.customer, rng)
    address = Address.objects.create(
        customer=customer, name=ship.name, line1=ship.line1, city=ship.city, region=ship.region,
        postal_code=ship.postal_code, country=ship.country,
        latitude=Decimal(str(ship.lat)), longitude=Decimal(str(ship.lon)),
    )
    products = {p.sku: p for p in Product.objects.filter(sku__in=[sku for sku, _q in plan.lines])}
    total = sum((products[sku].list_price * quantity for sku, quantity in plan.lines), Decimal("0"))
    order = SalesOrder.objects.create(
        channel=channel, external_ref=plan.reference, customer=customer, ship_to=address, status=S.DRAFT,
        subtotal=total, total=total, allocation_strategy=channel.allocation_strategy,
        created_by=staff.get("operations"), notes="Customer will call back to confirm.",
    )
    OrderLine.objects.bulk_create([
        OrderLine(order=order, line_no=index, product=products[sku], quantity=quantity,
                  unit_price=products[sku].list_price)
        for index, (sku, quantity) in enumerate(plan.lines, start=1)
    ])
    OrderEvent.objects.create(order=order, kind=EventKind.CREATED, to_status=S.DRAFT, actor=staff.get("operations"),
                              message="Phone order started.")
    if confirm:
        # Confirmed, waiting for the next allocation run.
        services.order_transition(order=order, to=S.CONFIRMED, actor=staff.get("operations"))
    return order


def _event_time(start: datetime, event: OrderEvent, previous: datetime, now: datetime) -> datetime:
    hours = 0.0
    if event.kind == EventKind.SHIPPED:
        hours = MILESTONE_HOURS[S.SHIPPED]
    elif event.kind == EventKind.STATUS:
        hours = MILESTONE_HOURS.get(event.to_status, 0)
    moment = max(previous + timedelta(seconds=2), start + timedelta(hours=hours))
    return min(moment, now)


def _backdate(created: dict[int, PlannedOrder], now: datetime) -> None:
    """Move the new orders (and their events, allocations, customers) to their place in history.

    Set-based: one UPDATE per table whatever the number of orders (the services stamped "now").
    """
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    orders = list(SalesOrder.objects.filter(pk__in=created).values_list("pk", "promised_date"))
    events: dict[int, list[OrderEvent]] = defaultdict(list)
    for event in OrderEvent.objects.filter(order_id__in=created).order_by("order_id", "id").only(
        "id", "order_id", "kind", "to_status"
    ):
        events[event.order_id].append(event)
    order_rows: list[tuple[int, datetime, datetime, Any]] = []
    event_rows: list[tuple[int, datetime]] = []
    for order_id, promised in orders:
        start = created[order_id].created_at
        previous = start - timedelta(seconds=2)  # the first event happens at `start`
        for event in events[order_id]:
            previous = _event_time(start, event, previous, now)
            event_rows.append((event.pk, previous))
        if promised is not None:
            promised += start.astimezone(zone).date() - today
        order_rows.append((order_id, start, max(previous, start), promised))
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE orders_salesorder AS o
                   SET created_at = v.created_at, updated_at = v.updated_at, promised_date = v.promised_date
                  FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::date[])
                       AS v(id, created_at, updated_at, promised_date)
                 WHERE o.id = v.id""",
            [list(column) for column in zip(*order_rows, strict=True)],
        )
        cursor.execute(
            """UPDATE orders_orderevent AS e SET created_at = v.created_at
                  FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, created_at)
                 WHERE e.id = v.id""",
            [list(column) for column in zip(*event_rows, strict=True)],
        )
    order_time = SalesOrder.objects.filter(lines=OuterRef("line_id")).values("created_at")[:1]
    Allocation.objects.filter(line__order_id__in=created).update(
        created_at=ExpressionWrapper(Subquery(order_time) + Value(timedelta(seconds=1)), output_field=DateTimeField())
    )
    first_order = SalesOrder.objects.filter(customer=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
    Customer.objects.filter(orders__in=list(created)).distinct().update(
        created_at=Least(
            "created_at",
            ExpressionWrapper(Subquery(first_order) - Value(timedelta(minutes=5)), output_field=DateTimeField()),
        )
    )


def seed(*, stdout: Any = None) -> None:
    """Channels, customers and ~500 orders in every status (safe to run again)."""
    now = timezone.now()
    products = [p for p in demo_products() if p.active]
    skus_by_profile: dict[str, list[str]] = defaultdict(list)
    for product in products:
        skus_by_profile[stock_profile(product)].append(product.sku)
    if not skus_by_profile["plenty"] or not skus_by_profile["out"]:
        _write(stdout, "orders: no demo products yet (run the inventory seeder first), skipped")
        return
    plans = plan_orders(skus_by_profile, now)
    rng = random.Random(SEED + 1)  # noqa: S311 — demo data, not security
    since = outbox_high_water_mark()
    created: dict[int, PlannedOrder] = {}
    refused = 0
    with transaction.atomic():
        _channels()
        if SalesOrder.objects.filter(external_ref__startswith=REFERENCE_PREFIX).exists():
            _write(stdout, "orders: demo history already present, nothing to do")
            return
        staff = _staff()
        # The newest few are drafts (and drafts just confirmed); they are made after everything else.
        for plan in plans[:-6]:
            address = _ship_to(plan.customer, rng)
            try:
                placed = services.place_order(
                    channel=plan.channel,
                    customer=services.CustomerInput(name=plan.customer.name, email=plan.customer.email,
                                                    phone=plan.customer.phone),
                    ship_to=address,
                    lines=[services.LineInput(sku=sku, quantity=quantity) for sku, quantity in plan.lines],
                    external_ref=plan.reference,
                    allow_backorder=plan.allow_backorder,
                    user=staff.get("operations") if plan.channel in ("phone", "store") else None,
                )
            except InsufficientStock:
                refused += 1  # the shop would have said "sold out"
                continue
            if placed.created:
                _drive(placed.order, plan, staff)
                created[placed.order.pk] = plan
        if created:
            # What the worker would have done after each cancellation: offer freed units to waiting orders.
            services.reallocate_backorders()
        for index, plan in enumerate(plans[-6:]):
            order = _draft(plan, rng, staff, confirm=index % 2 == 1)
            created[order.pk] = plan
        _backdate(created, now)
        settle_outbox(since, SEEDED_TASKS)
    _write(stdout, f"orders: {len(created)} demo orders created ({refused} refused as sold out), "
                   f"{SalesOrder.objects.filter(external_ref__startswith=REFERENCE_PREFIX).count()} in total")
