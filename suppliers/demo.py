"""Demo purchasing data for `seed_demo` (runs after the inventory and orders seeders).

Idempotent: suppliers, catalogue and policies are matched by their natural keys; the history of
purchase orders is only created while the demo suppliers have none. Everything that moves stock
goes through the services, so the ledger stays consistent.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from inventory import selectors as inventory_selectors
from inventory.models import Product, Warehouse
from suppliers import planner, services
from suppliers.models import PurchaseOrder, ReorderPolicy, Supplier, SupplierProduct
from suppliers.statuses import PolicyMethod

SUPPLIERS = [
    # code, name, lead time, landed %, e-mail
    ("shenzhen-elec", "Shenzhen Electronics Co.", 10, Decimal("3"), "orders@shenzhen-elec.example.com"),
    ("ningbo-pack", "Ningbo Packaging Ltd.", 7, Decimal("2"), "sales@ningbo-pack.example.com"),
    ("hangzhou-home", "Hangzhou Home Goods", 14, Decimal("4"), "po@hangzhou-home.example.com"),
    ("guangzhou-trade", "Guangzhou Trading House", 21, Decimal("6"), "buy@guangzhou-trade.example.com"),
]
DEMO_SUPPLIER_USER = "supplier"


def _write(stdout: Any, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def seed(*, stdout: Any = None) -> None:
    products = list(Product.objects.filter(active=True).order_by("pk")[:200])
    warehouses = list(Warehouse.objects.filter(active=True).order_by("priority", "code")[:3])
    if not products or not warehouses:
        _write(stdout, "suppliers: no products or warehouses yet, skipped")
        return
    rng = random.Random(4)  # noqa: S311 — demo data, not security
    suppliers = []
    for code, name, lead, landed, email in SUPPLIERS:
        supplier = Supplier.objects.filter(code=code).first() or Supplier(code=code)
        if supplier.pk is None:
            supplier.name, supplier.default_lead_time_days, supplier.landed_cost_percent = name, lead, landed
            supplier.email, supplier.contact_name = email, "Sales desk"
            supplier.address = "Industrial Park, China"
            services.supplier_save(supplier=supplier)
        suppliers.append(supplier)

    existing = set(SupplierProduct.objects.filter(supplier__in=suppliers).values_list("supplier_id", "product_id"))
    preferred_taken = set(SupplierProduct.objects.filter(preferred=True).values_list("product_id", flat=True))
    for index, product in enumerate(products):
        offered_by = [suppliers[index % len(suppliers)], suppliers[(index + 1) % len(suppliers)]]
        for rank, supplier in enumerate(offered_by):
            if (supplier.pk, product.pk) in existing:
                continue
            base = (product.list_price or Decimal("20")) * Decimal("0.55" if rank == 0 else "0.6")
            base = max(base.quantize(Decimal("0.01")), Decimal("0.50"))
            offer = SupplierProduct(
                supplier=supplier, product=product, supplier_sku=f"{supplier.code[:4].upper()}-{product.sku}",
                cost=base, currency=supplier.currency, minimum_order_quantity=rng.choice([1, 10, 20, 50]),
                pack_size=rng.choice([1, 5, 10, 12]), lead_time_days=supplier.default_lead_time_days + rank * 3,
                preferred=rank == 0 and index % 3 == 0 and product.pk not in preferred_taken,
            )
            services.supplier_product_save(
                supplier_product=offer,
                price_breaks=[
                    services.PriceBreakInput(100, (base * Decimal("0.95")).quantize(Decimal("0.01"))),
                    services.PriceBreakInput(500, (base * Decimal("0.90")).quantize(Decimal("0.01"))),
                ],
            )

    stock = inventory_selectors.availability(product_ids=[product.pk for product in products[:120]])
    have_policy = set(ReorderPolicy.objects.values_list("product_id", "warehouse_id"))
    for index, product in enumerate(products[:120]):
        for warehouse in warehouses[:2]:
            if (product.pk, warehouse.pk) in have_policy:
                continue
            available = stock.get(product.pk, {}).get(warehouse.pk, 0)
            if index % 2 == 0:
                # Some sit below their minimum so the planner has something to suggest.
                minimum = max(available + 5, 10) if index % 6 == 0 else max(available // 3, 5)
                policy = ReorderPolicy(product=product, warehouse=warehouse, method=PolicyMethod.MIN_MAX,
                                       min_quantity=minimum, max_quantity=minimum * 3)
            else:
                policy = ReorderPolicy(product=product, warehouse=warehouse, method=PolicyMethod.REORDER_POINT,
                                       min_quantity=0, max_quantity=0, service_level=Decimal("0.95"),
                                       review_period_days=7, critical=index % 10 == 1)
            services.reorder_policy_save(policy=policy)

    user = get_user_model().objects.filter(username=DEMO_SUPPLIER_USER).first()
    if user is not None:
        services.supplier_user_link(user=user, supplier=suppliers[0])

    if not PurchaseOrder.objects.filter(supplier__in=suppliers).exists():
        _seed_history(suppliers, products, warehouses, rng)
    result = planner.run_replenishment()
    _write(stdout, f"suppliers: {len(suppliers)} suppliers; planner created {result.created_pos} draft POs "
                   f"with {result.created_lines} lines")


def _seed_history(suppliers: list[Supplier], products: list[Product], warehouses: list[Warehouse],
                  rng: random.Random) -> None:
    """A few months of purchase orders in every state, with receipts for the scorecards."""
    now = timezone.now()
    offers: dict[int, list[int]] = {}
    for supplier_id, product_id in SupplierProduct.objects.filter(supplier__in=suppliers).values_list(
        "supplier_id", "product_id"
    ):
        offers.setdefault(supplier_id, []).append(product_id)
    for number in range(24):
        supplier = suppliers[number % len(suppliers)]
        warehouse = warehouses[number % len(warehouses)]
        picked = rng.sample(offers[supplier.pk], k=min(3, len(offers[supplier.pk])))
        created = services.purchase_order_create(
            supplier=supplier, warehouse=warehouse,
            lines=[services.PurchaseOrderLineInput(product=pk, quantity=rng.choice([20, 50, 100, 200]))
                   for pk in picked],
        ).purchase_order
        if number % 8 == 7:
            continue  # stays a draft
        services.purchase_order_send(purchase_order=created)
        age = 100 - number * 4
        sent_at = now - timedelta(days=age)
        lead = supplier.default_lead_time_days
        PurchaseOrder.objects.filter(pk=created.pk).update(sent_at=sent_at, created_at=sent_at)
        created.lines.update(expected_date=(sent_at + timedelta(days=lead)).date())
        if number % 8 == 6:
            services.purchase_order_acknowledge(purchase_order=created)
            continue
        if age <= lead:
            continue  # not due yet
        lateness = rng.choice([-2, 0, 0, 1, 4]) + (3 if supplier.code == "guangzhou-trade" else 0)
        received_at = min(sent_at + timedelta(days=lead + lateness), now - timedelta(hours=1))
        partial = number % 5 == 0
        services.purchase_order_receive(
            purchase_order=created,
            lines=[services.ReceiptLineInput(line_id=line.pk, quantity=line.quantity // 2 if partial else line.quantity,
                                             unit_cost=line.unit_cost * Decimal(rng.choice(["1", "1", "1.02"])))
                   for line in created.lines.all()],
            received_at=received_at, delivery_note=f"DN-{number:04d}",
        )
