"""factory_boy factories for inventory. Stock is given through the ledger service, never set."""

from __future__ import annotations

from decimal import Decimal

import factory

from inventory import services
from inventory.models import Product, Warehouse


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-T{n:05d}")
    name = factory.Sequence(lambda n: f"Test product {n}")
    list_price = Decimal("19.90")
    weight_kg = Decimal("0.500")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n:03d}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    city = "Shanghai"
    latitude = Decimal("31.230400")
    longitude = Decimal("121.473700")
    priority = factory.Sequence(lambda n: 10 + n)
    handling_days = 1


def give_stock(product: Product, warehouse: Warehouse, quantity: int) -> None:
    services.stock_receive(product=product, warehouse=warehouse, quantity=quantity, reference="test")
