"""Demo inventory for `seed_demo`: 3 warehouses in China, ~200 products, opening stock.

Idempotent: warehouses and products are matched by code/SKU and never overwritten; opening
balances are posted (through inventory.services, kind `opening_balance`) only for stock rows
that have no movement yet, and the few demo adjustments/transfers/counts only on a fresh
ledger. A fixed random seed makes every run produce the same data.

Every receipt calls the stock-arrived hook, which enqueues a backorder reallocation through the
outbox. At seeding time there is nothing to reallocate, so the seeder marks the messages it
caused as processed in its own transaction (core.demo.settle_outbox): the worker's exactly-once
claim then skips them instead of running hundreds of no-op reallocations.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.demo import outbox_high_water_mark, settle_outbox
from core.exceptions import DomainError
from inventory import services
from inventory.models import MovementKind, Product, StockMovement, Unit, Warehouse, gtin_check_digit_is_valid

SEED = 20240603
OPENING_REFERENCE = "DEMO-OPENING"
PRODUCT_COUNT = 200
DEMO_SKU_PATTERN = r"^SKU-[0-9]{4}$"

# code, name, address, city, postal code, latitude, longitude, priority, handling days
WAREHOUSES = [
    ("SHA", "Shanghai Waigaoqiao DC", "1 Jilong Road, Pudong", "Shanghai", "200131",
     Decimal("31.356400"), Decimal("121.588000"), 10, 1),
    ("TSN", "Tianjin Binhai DC", "88 Xinggang Road, Binhai New Area", "Tianjin", "300457",
     Decimal("39.003300"), Decimal("117.710900"), 20, 2),
    ("SZX", "Shenzhen Yantian DC", "8 Yantian Port Road", "Shenzhen", "518081",
     Decimal("22.575600"), Decimal("114.265000"), 30, 3),
]

# family, unit, price range (CNY), weight range (kg), names
CATALOGUE = [
    ("Tea", Unit.BOX, (28, 268), (0.1, 0.6),
     ["Longjing green tea", "Pu-erh tea cake", "Jasmine tea", "Tieguanyin oolong", "Keemun black tea",
      "White peony tea", "Chrysanthemum tea", "Dianhong black tea"]),
    ("Kitchen", Unit.PIECE, (19, 399), (0.2, 3.5),
     ["Carbon steel wok", "Bamboo steamer", "Rice cooker", "Cleaver", "Chopstick set", "Porcelain bowl set",
      "Clay teapot", "Cutting board"]),
    ("Electronics", Unit.PIECE, (49, 1999), (0.05, 2.0),
     ["USB-C charger", "Power bank", "Bluetooth speaker", "Wireless earbuds", "Desk lamp", "Smart plug",
      "HDMI cable", "Mechanical keyboard"]),
    ("Home", Unit.PIECE, (15, 699), (0.1, 6.0),
     ["Silk pillowcase", "Cotton towel", "Storage box", "Wall clock", "Paper lantern", "Bamboo blind",
      "Ceramic vase", "Duvet cover"]),
    ("Stationery", Unit.BOX, (6, 159), (0.05, 1.2),
     ["Calligraphy brush set", "Rice paper pack", "Ink stick", "Notebook", "Gel pens", "Sticky notes",
      "Seal paste", "Desk organiser"]),
    ("Outdoor", Unit.PIECE, (39, 1299), (0.3, 8.0),
     ["Folding chair", "Camping lantern", "Hiking poles", "Insulated bottle", "Picnic mat", "Tent",
      "Rain jacket", "Daypack"]),
]
VARIANTS = ["", " (small)", " (large)", " — red", " — black", " — gift edition"]


def _write(stdout: Any, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def gtin13(index: int) -> str:
    """A GTIN-13 in the GS1 China range (690 to 699) with a correct check digit."""
    body = f"692{index:09d}"
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(body))
    code = body + str((10 - total % 10) % 10)
    assert gtin_check_digit_is_valid(code)
    return code


def _warehouses() -> list[Warehouse]:
    result = []
    for code, name, address, city, postal_code, latitude, longitude, priority, handling in WAREHOUSES:
        warehouse, _created = Warehouse.objects.get_or_create(
            code=code,
            defaults={
                "name": name, "address_line1": address, "city": city, "postal_code": postal_code, "country": "CN",
                "latitude": latitude, "longitude": longitude, "priority": priority, "handling_days": handling,
            },
        )
        result.append(warehouse)
    return result


def _products(rng: random.Random) -> list[Product]:
    existing = set(Product.objects.filter(sku__regex=DEMO_SKU_PATTERN).values_list("sku", flat=True))
    new: list[Product] = []
    index = 0
    for variant in VARIANTS:
        for _family, unit, (low_price, high_price), (low_kg, high_kg), names in CATALOGUE:
            for name in names:
                index += 1
                if index > PRODUCT_COUNT:
                    break
                price = Decimal(rng.randint(low_price, high_price)) + Decimal(rng.choice(["0", "0.5", "0.9", "0.99"]))
                product = Product(
                    sku=f"SKU-{index:04d}",
                    name=f"{name}{variant}",
                    gtin=gtin13(index),
                    unit=unit,
                    weight_kg=Decimal(str(round(rng.uniform(low_kg, high_kg), 3))),
                    length_cm=Decimal(rng.randint(5, 80)),
                    width_cm=Decimal(rng.randint(5, 50)),
                    height_cm=Decimal(rng.randint(2, 40)),
                    list_price=price.quantize(Decimal("0.01")),
                    # Every 8th product is watched by a threshold (the others get reorder policies).
                    low_stock_threshold=rng.choice([10, 15, 20]) if index % 8 == 0 else 0,
                    active=index % 97 != 0,  # two discontinued items
                )
                if product.sku not in existing:
                    new.append(product)
    Product.objects.bulk_create(new)
    return demo_products()


def demo_products() -> list[Product]:
    return list(Product.objects.filter(sku__regex=DEMO_SKU_PATTERN).order_by("sku"))


def stock_profile(product: Product) -> str:
    """Which demo story a product tells: out of stock, low, or plenty (derived from its SKU)."""
    number = int(product.sku.split("-")[1])
    if number % 23 == 0:
        return "out"  # nothing anywhere: orders for it are backordered
    if number % 8 == 0:
        return "low"  # at or under its low-stock threshold
    return "plenty"


def _opening_stock(products: list[Product], warehouses: list[Warehouse], rng: random.Random) -> int:
    stocked = set(StockMovement.objects.values_list("product_id", "warehouse_id").distinct())
    # Demo history: the opening balances predate the 90 days of demo orders.
    opening_time = timezone.now() - timedelta(days=91)
    posted = 0
    for product in products:
        profile = stock_profile(product)
        for position, warehouse in enumerate(warehouses):
            quantity = {
                "out": 0,
                "low": rng.randint(2, 6) if position == 0 else 0,
                "plenty": rng.choice([0, rng.randint(20, 60), rng.randint(40, 220), rng.randint(40, 220)]),
            }[profile]
            if quantity == 0 or (product.pk, warehouse.pk) in stocked:
                continue
            services.stock_receive(
                product=product, warehouse=warehouse, quantity=quantity, kind=MovementKind.OPENING_BALANCE,
                reference=OPENING_REFERENCE, reason="opening balance", occurred_at=opening_time,
            )
            posted += 1
    return posted


def _ledger_stories(products: list[Product], warehouses: list[Warehouse], rng: random.Random) -> None:
    """A few everyday movements so the ledger shows more than opening balances."""
    plenty = [p for p in products if stock_profile(p) == "plenty" and p.active]
    for product in rng.sample(plenty, 6):
        for warehouse in warehouses:
            try:
                services.stock_adjust(product=product, warehouse=warehouse, quantity=-rng.randint(1, 3),
                                      reason="damaged in handling", reference="DEMO-ADJ")
                break
            except DomainError:  # that warehouse has too few: try the next one
                continue
    for product in rng.sample(plenty, 4):
        services.stock_receive(product=product, warehouse=warehouses[0], quantity=rng.randint(10, 40),
                               reference="DEMO-PO", reason="supplier delivery")
        services.stock_transfer(product=product, from_warehouse=warehouses[0], to_warehouse=warehouses[2],
                                quantity=5, reason="rebalance south", reference="DEMO-TRF")
    for product in rng.sample(plenty, 4):
        level = product.stock_levels.filter(warehouse=warehouses[0]).first()
        if level is not None and level.on_hand > 3:
            services.stock_count(product=product, warehouse=warehouses[0], counted=level.on_hand - 1,
                                 reason="cycle count")


def seed(*, stdout: Any = None) -> None:
    """Warehouses, products and their opening stock (safe to run again)."""
    rng = random.Random(SEED)  # noqa: S311 — demo data, not security
    since = outbox_high_water_mark()
    with transaction.atomic():
        warehouses = _warehouses()
        products = _products(rng)
        fresh_ledger = not StockMovement.objects.filter(reference=OPENING_REFERENCE).exists()
        posted = _opening_stock(products, warehouses, rng)
        if fresh_ledger and posted:
            _ledger_stories(products, warehouses, rng)
        settle_outbox(since)  # the stock_arrived hook's reallocations: history, nothing to offer
    _write(stdout, f"inventory: {len(warehouses)} warehouses, {len(products)} products, {posted} opening balances")
