"""The replenishment planner: set-based, idempotent, safe to run on several workers at once.

One run reads every selected policy with a handful of queries (policies, demand statistics,
catalogue, price breaks, measured lead times, then — under the planner lock — stock, on-order
quantities, open backorders and open suggestions), decides in Python, and writes with bulk
statements. Nothing is read or written per SKU.

Concurrency: the decision and the writes happen in one transaction that first takes a
transaction-level advisory lock, so a second run (another worker, a second beat scheduler, the
portal button) waits and then sees the first run's lines as on-order quantity: it creates
nothing twice. A partial unique key (one open suggestion line per product x warehouse) backs this
up in the database.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import money
from inventory import hooks as inventory_hooks
from suppliers import forecasting, planning
from suppliers.models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Supplier,
    SupplierPriceBreak,
    SupplierProduct,
)
from suppliers.statuses import (
    OPEN_STATUSES,
    PolicyMethod,
    PurchaseOrderEventKind,
    PurchaseOrderSource,
    PurchaseOrderStatus,
)

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the planner ("SCOMS" + replenishment).
PLANNER_LOCK_KEY = 0x5C0_5EED
MAX_LEVEL = 2_000_000_000


@dataclass
class PlannerResult:
    created_pos: int = 0
    created_lines: int = 0
    updated_lines: int = 0
    policies: int = 0
    below_reorder_level: int = 0
    without_supplier: int = 0
    auto_approved: int = 0
    purchase_order_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Policy:
    id: int
    product_id: int
    warehouse_id: int
    method: str
    min_quantity: int
    max_quantity: int
    service_level: Decimal
    review_period_days: int
    preferred_supplier_id: int | None


def _policy_filter(
    *, policy_ids: Iterable[int] | None, product_ids: Iterable[int] | None, critical_only: bool
) -> tuple[str, dict[str, Any]]:
    clauses = ["p.active", "pr.active"]
    params: dict[str, Any] = {}
    if policy_ids is not None:
        clauses.append("p.id = ANY(%(policy_ids)s)")
        params["policy_ids"] = sorted(set(policy_ids))
    if product_ids is not None:
        clauses.append("p.product_id = ANY(%(product_ids)s)")
        params["product_ids"] = sorted(set(product_ids))
    if critical_only:
        clauses.append("p.critical")
    return " AND ".join(clauses), params


_POLICIES_SQL = """
SELECT p.id, p.product_id, p.warehouse_id, p.method, p.min_quantity, p.max_quantity, p.service_level,
       p.review_period_days, p.preferred_supplier_id
  FROM suppliers_reorderpolicy p
  JOIN inventory_product pr ON pr.id = p.product_id
 WHERE {where}
"""

# Stock and incoming supply per policy, read under the planner lock.
_POSITIONS_SQL = """
SELECT p.id, COALESCE(s.available, 0), COALESCE(o.on_order, 0)
  FROM suppliers_reorderpolicy p
  JOIN inventory_product pr ON pr.id = p.product_id
  LEFT JOIN inventory_stocklevel s ON s.product_id = p.product_id AND s.warehouse_id = p.warehouse_id
  LEFT JOIN (
        SELECT l.product_id, l.warehouse_id, SUM(GREATEST(l.quantity - l.quantity_received, 0)) AS on_order
          FROM suppliers_purchaseorderline l
          JOIN suppliers_purchaseorder po ON po.id = l.purchase_order_id
         WHERE po.status = ANY(%(open_statuses)s) {line_filter}
         GROUP BY l.product_id, l.warehouse_id
       ) o ON o.product_id = p.product_id AND o.warehouse_id = p.warehouse_id
 WHERE {where}
"""

_UPDATE_POLICIES_SQL = """
UPDATE suppliers_reorderpolicy AS p
   SET reorder_level = v.reorder_level, safety_stock = v.safety_stock, demand_mean = v.mean,
       demand_sigma = v.sigma, lead_time_used = v.lead_time, computed_at = now()
  FROM unnest(%s::bigint[], %s::integer[], %s::integer[], %s::numeric[], %s::numeric[], %s::numeric[])
       AS v(id, reorder_level, safety_stock, mean, sigma, lead_time)
 WHERE p.id = v.id
   AND (p.reorder_level, p.safety_stock, p.demand_mean, p.demand_sigma, p.lead_time_used)
       IS DISTINCT FROM (v.reorder_level, v.safety_stock, v.mean, v.sigma, v.lead_time)
"""

_UPDATE_LINES_SQL = """
UPDATE suppliers_purchaseorderline AS l
   SET quantity = v.quantity, unit_cost = v.unit_cost
  FROM unnest(%s::bigint[], %s::integer[], %s::numeric[]) AS v(id, quantity, unit_cost)
 WHERE l.id = v.id
"""

_INSERT_LINES_SQL = """
INSERT INTO suppliers_purchaseorderline
       (purchase_order_id, line_no, product_id, warehouse_id, supplier_product_id, supplier_sku, quantity,
        unit_cost, expected_date, policy_id, quantity_received, suggestion)
SELECT v.*, 0, TRUE
  FROM unnest(%s::bigint[], %s::smallint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[],
              %s::integer[], %s::numeric[], %s::date[], %s::bigint[])
       AS v(purchase_order_id, line_no, product_id, warehouse_id, supplier_product_id, supplier_sku, quantity,
            unit_cost, expected_date, policy_id)
"""

_UPDATE_TOTALS_SQL = """
UPDATE suppliers_purchaseorder AS po
   SET total = t.total, updated_at = now()
  FROM (SELECT purchase_order_id, ROUND(SUM(ROUND(quantity * unit_cost, 2)), 2) AS total
          FROM suppliers_purchaseorderline
         WHERE purchase_order_id = ANY(%s)
         GROUP BY purchase_order_id) AS t
 WHERE po.id = t.purchase_order_id
"""


def _fetch(sql: str, params: Any) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _load_candidates(product_ids: set[int] | None, excluded_suppliers: set[int]) -> dict[int, list[planning.Candidate]]:
    """Active offers of active suppliers with their price breaks and exchange rates: three queries."""
    offers = SupplierProduct.objects.filter(active=True, supplier__active=True)
    breaks_query = SupplierPriceBreak.objects.filter(supplier_product__active=True, supplier_product__supplier__active=True)
    if product_ids is not None:
        offers = offers.filter(product_id__in=product_ids)
        breaks_query = breaks_query.filter(supplier_product__product_id__in=product_ids)
    breaks: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for supplier_product_id, min_quantity, unit_cost in breaks_query.values_list(
        "supplier_product_id", "min_quantity", "unit_cost"
    ):
        breaks[supplier_product_id].append((min_quantity, unit_cost))
    result: dict[int, list[planning.Candidate]] = defaultdict(list)
    rows = list(offers.values_list(
        "pk", "supplier_id", "product_id", "cost", "minimum_order_quantity", "pack_size", "lead_time_days",
        "preferred", "supplier_sku", "currency", "supplier__default_lead_time_days", "supplier__landed_cost_percent",
    ).order_by("product_id", "supplier_id"))
    rates = money.rates_to_base({row[9] for row in rows})
    for row in rows:
        (pk, supplier_id, product_id, cost, moq, pack, lead, preferred, sku, currency, default_lead, landed) = row
        if supplier_id in excluded_suppliers:
            continue
        result[product_id].append(
            planning.Candidate(
                supplier_id=supplier_id, supplier_product_id=pk, cost=cost, minimum_order_quantity=moq,
                pack_size=pack, lead_time_days=lead or default_lead, preferred=preferred,
                landed_cost_percent=landed, price_breaks=tuple(sorted(breaks.get(pk, ()))),
                supplier_sku=sku, currency=currency, rate_to_base=rates.get(currency),
            )
        )
    return result


def _open_demand(product_ids: set[int] | None) -> dict[int, int]:
    """Backordered units per product from the orders side (through an inventory hook)."""
    provider = getattr(inventory_hooks, "open_demand", None)
    if provider is None:
        return {}
    return provider(product_ids)


def _blocked_suppliers() -> set[int]:
    if not settings.SUPPLIER_BLOCK_BELOW_STANDING:
        return set()
    from suppliers.scorecards import standings

    return {supplier_id for supplier_id, standing in standings().items() if standing.below_threshold}


def _lead_time(
    candidate: planning.Candidate, product_id: int,
    per_product: dict[tuple[int, int], Any], per_supplier: dict[int, Any],
) -> tuple[float, float]:
    """Measured lead time (mean, sigma) once there are enough receipts, else the stated one."""
    measured = per_product.get((candidate.supplier_id, product_id)) or per_supplier.get(candidate.supplier_id)
    if measured is not None:
        return max(measured.mean_days, 1.0), measured.sigma_days
    return float(candidate.lead_time_days), 0.0


def run_replenishment(
    *,
    policy_ids: Iterable[int] | None = None,
    product_ids: Iterable[int] | None = None,
    user: Any = None,
    critical_only: bool = False,
) -> PlannerResult:
    """Plan every selected active policy and write draft purchase orders for what is short.

    Returns how many orders and lines were created. Safe to run twice or concurrently.
    """
    from suppliers.scorecards import measured_lead_times

    result = PlannerResult()
    where, params = _policy_filter(policy_ids=policy_ids, product_ids=product_ids, critical_only=critical_only)
    policies = [_Policy(*row) for row in _fetch(_POLICIES_SQL.format(where=where), params)]
    result.policies = len(policies)
    if not policies:
        return result
    selected_products = {p.product_id for p in policies} if (policy_ids is not None or product_ids is not None
                                                             or critical_only) else None
    stat_pairs = [(p.product_id, p.warehouse_id) for p in policies if p.method == PolicyMethod.REORDER_POINT]
    stats = forecasting.daily_demand_stats(product_warehouse_pairs=stat_pairs) if stat_pairs else {}
    candidates = _load_candidates(selected_products, _blocked_suppliers())
    per_product_lead, per_supplier_lead = measured_lead_times()
    today = timezone.localdate()
    computed: list[tuple[int, int, int, Decimal, Decimal, Decimal]] = []

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PLANNER_LOCK_KEY])
        line_filter = ""
        position_params = {**params, "open_statuses": list(OPEN_STATUSES)}
        if selected_products is not None:
            line_filter = "AND l.product_id = ANY(%(line_products)s)"
            position_params["line_products"] = sorted(selected_products)
        positions = {
            row[0]: row[1:]
            for row in _fetch(_POSITIONS_SQL.format(where=where, line_filter=line_filter), position_params)
        }
        backorders = _open_demand(selected_products)
        suggestions_query = PurchaseOrderLine.objects.filter(suggestion=True)
        if selected_products is not None:
            suggestions_query = suggestions_query.filter(product_id__in=selected_products)
        open_suggestions = {
            (row[1], row[2]): row
            for row in suggestions_query.values_list(
                "pk", "product_id", "warehouse_id", "purchase_order_id", "quantity", "purchase_order__supplier_id"
            )
        }
        # Backorders belong to no warehouse: charge them to the first policy of the product
        # (lowest warehouse id), so they are ordered once, not once per warehouse.
        backorder_home: dict[int, int] = {}
        for policy in sorted(policies, key=lambda p: (p.product_id, p.warehouse_id)):
            backorder_home.setdefault(policy.product_id, policy.id)

        new_lines: dict[tuple[int, int], list[tuple[_Policy, planning.Choice, int]]] = defaultdict(list)
        line_updates: list[tuple[int, int, Decimal, int]] = []  # (line id, quantity, unit cost, po id)
        for policy in policies:
            position_row = positions.get(policy.id)
            if position_row is None:
                continue
            available, on_order = position_row
            offers = candidates.get(policy.product_id, [])
            stat = stats.get((policy.product_id, policy.warehouse_id))
            mean = float(stat.mean) if stat is not None else 0.0
            sigma = float(stat.sigma) if stat is not None else 0.0
            basis = planning.planning_lead_time(offers, preferred_supplier_id=policy.preferred_supplier_id)
            lead, lead_sigma = (
                _lead_time(basis, policy.product_id, per_product_lead, per_supplier_lead) if basis else (0.0, 0.0)
            )
            levels = planning.policy_levels(
                method=policy.method, min_quantity=policy.min_quantity, max_quantity=policy.max_quantity,
                service_level=policy.service_level, review_period_days=policy.review_period_days,
                mean_daily=mean, sigma_daily=sigma, lead_time_days=lead, lead_time_sigma=lead_sigma,
            )
            computed.append((
                policy.id, min(levels.reorder_level, MAX_LEVEL), min(levels.safety_stock, MAX_LEVEL),
                Decimal(str(round(mean, 4))), Decimal(str(round(sigma, 4))), Decimal(str(round(lead, 2))),
            ))
            backordered = backorders.get(policy.product_id, 0) if backorder_home.get(policy.product_id) == policy.id else 0
            position = planning.inventory_position(available=available, on_order=on_order, backordered=backordered)
            need = planning.quantity_needed(position=position, levels=levels)
            if position <= levels.reorder_level:
                result.below_reorder_level += 1
            if need <= 0:
                continue
            existing = open_suggestions.get((policy.product_id, policy.warehouse_id))
            if existing is not None:
                line_id, _product, _warehouse, po_id, quantity, supplier_id = existing
                offer = next((c for c in offers if c.supplier_id == supplier_id), None)
                if offer is not None:
                    choice = planning.price_choice(offer, quantity + need)
                    line_updates.append((line_id, choice.quantity, choice.unit_cost, po_id))
                continue
            choice = planning.choose_supplier(offers, need, preferred_supplier_id=policy.preferred_supplier_id)
            if choice is None:
                result.without_supplier += 1
                continue
            if choice.candidate.supplier_id != (basis.supplier_id if basis else None):
                # Sized with another offer's lead time: resize with the chosen supplier's.
                lead, lead_sigma = _lead_time(choice.candidate, policy.product_id, per_product_lead, per_supplier_lead)
                levels = planning.policy_levels(
                    method=policy.method, min_quantity=policy.min_quantity, max_quantity=policy.max_quantity,
                    service_level=policy.service_level, review_period_days=policy.review_period_days,
                    mean_daily=mean, sigma_daily=sigma, lead_time_days=lead, lead_time_sigma=lead_sigma,
                )
                resized = planning.quantity_needed(position=position, levels=levels)
                if resized <= 0:
                    continue
                choice = planning.price_choice(choice.candidate, resized)
            new_lines[(choice.candidate.supplier_id, policy.warehouse_id)].append((policy, choice, math.ceil(lead)))

        touched = _write(new_lines, line_updates, today=today, user=user, result=result)
        result.auto_approved = _auto_approve(touched, user=user)
        result.purchase_order_ids = sorted(touched)

    if computed:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_UPDATE_POLICIES_SQL, [list(column) for column in zip(*computed, strict=True)])
    logger.info("replenishment: %s", result.as_dict())
    return result


def _write(
    new_lines: dict[tuple[int, int], list[tuple[_Policy, planning.Choice, int]]],
    line_updates: list[tuple[int, int, Decimal, int]],
    *, today: Any, user: Any, result: PlannerResult,
) -> set[int]:
    """Create/extend draft planner orders (one per supplier x warehouse); returns touched order ids."""
    touched: set[int] = set()
    user_id = user.pk if getattr(user, "pk", None) else None
    if line_updates:
        with connection.cursor() as cursor:
            cursor.execute(_UPDATE_LINES_SQL, [[u[0] for u in line_updates], [u[1] for u in line_updates],
                                               [u[2] for u in line_updates]])
        touched.update(u[3] for u in line_updates)
        result.updated_lines = len(line_updates)
    if new_lines:
        # Append to the planner's own open drafts where one exists for the supplier x warehouse.
        drafts = {}
        for pk, supplier_id, warehouse_id in PurchaseOrder.objects.filter(
            status=PurchaseOrderStatus.DRAFT, source=PurchaseOrderSource.PLANNER,
            supplier_id__in={key[0] for key in new_lines}, warehouse_id__in={key[1] for key in new_lines},
        ).order_by("pk").values_list("pk", "supplier_id", "warehouse_id"):
            drafts.setdefault((supplier_id, warehouse_id), pk)
        next_line_no: dict[int, int] = defaultdict(int)
        present: set[tuple[int, int]] = set()
        if drafts:
            for po_id, line_no, product_id in PurchaseOrderLine.objects.filter(
                purchase_order_id__in=drafts.values()
            ).values_list("purchase_order_id", "line_no", "product_id"):
                next_line_no[po_id] = max(next_line_no[po_id], line_no)
                present.add((po_id, product_id))
        supplier_terms = {
            pk: (currency, terms)
            for pk, currency, terms in Supplier.objects.filter(pk__in={k[0] for k in new_lines}).values_list(
                "pk", "currency", "payment_terms"
            )
        }
        headers = []
        for (supplier_id, warehouse_id), entries in sorted(new_lines.items()):
            if (supplier_id, warehouse_id) in drafts:
                continue
            headers.append(PurchaseOrder(
                supplier_id=supplier_id, warehouse_id=warehouse_id, source=PurchaseOrderSource.PLANNER,
                currency=supplier_terms[supplier_id][0], payment_terms=supplier_terms[supplier_id][1],
                created_by_id=user_id,
                expected_date=today + timedelta(days=max(lead for _, _, lead in entries)),
                notes=_("Suggested by the replenishment planner."),
            ))
        PurchaseOrder.objects.bulk_create(headers)
        for header in headers:
            drafts[(header.supplier_id, header.warehouse_id)] = header.pk
        result.created_pos = len(headers)
        lines: list[tuple] = []
        for (supplier_id, warehouse_id), entries in sorted(new_lines.items()):
            po_id = drafts[(supplier_id, warehouse_id)]
            for policy, choice, lead in sorted(entries, key=lambda e: e[0].product_id):
                if (po_id, policy.product_id) in present:
                    continue  # purchasing already put it on this draft by hand: leave it
                next_line_no[po_id] += 1
                lines.append((
                    po_id, next_line_no[po_id], policy.product_id, warehouse_id,
                    choice.candidate.supplier_product_id, choice.candidate.supplier_sku, choice.quantity,
                    choice.unit_cost, today + timedelta(days=lead), policy.id,
                ))
            touched.add(po_id)
        if lines:
            # One INSERT … SELECT FROM unnest(): tens of thousands of lines without ORM overhead.
            with connection.cursor() as cursor:
                cursor.execute(_INSERT_LINES_SQL, [list(column) for column in zip(*lines, strict=True)])
        result.created_lines = len(lines)
        PurchaseOrderEvent.objects.bulk_create([
            PurchaseOrderEvent(
                purchase_order_id=header.pk, kind=PurchaseOrderEventKind.CREATED, to_status=PurchaseOrderStatus.DRAFT,
                user_id=user_id, message=_("Suggested by the replenishment planner."),
            )
            for header in headers
        ])
    if touched:
        with connection.cursor() as cursor:
            cursor.execute(_UPDATE_TOTALS_SQL, [sorted(touched)])
    return touched


def _auto_approve(purchase_order_ids: set[int], *, user: Any) -> int:
    """Send planner drafts whose total is below REPLENISHMENT_AUTO_APPROVE_BELOW."""
    from suppliers.services import purchase_order_send

    limit = Decimal(settings.REPLENISHMENT_AUTO_APPROVE_BELOW)
    if limit <= 0 or not purchase_order_ids:
        return 0
    eligible = PurchaseOrder.objects.filter(
        pk__in=purchase_order_ids, status=PurchaseOrderStatus.DRAFT, source=PurchaseOrderSource.PLANNER,
        total__lt=limit, total__gt=0,
    ).values_list("pk", flat=True)
    approved = 0
    for pk in sorted(eligible):
        purchase_order_send(purchase_order=pk, user=user)
        approved += 1
    return approved
