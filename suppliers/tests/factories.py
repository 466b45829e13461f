"""factory_boy factories for purchasing. Writes with invariants go through the services."""

from __future__ import annotations

from decimal import Decimal

import factory

from inventory.tests.factories import ProductFactory, WarehouseFactory
from suppliers import services
from suppliers.models import ReorderPolicy, Supplier, SupplierProduct
from suppliers.statuses import PolicyMethod


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"sup-{n:03d}")
    name = factory.Sequence(lambda n: f"Supplier {n}")
    email = factory.LazyAttribute(lambda o: f"{o.code}@suppliers.example.com")
    default_lead_time_days = 10


class SupplierProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierProduct

    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory(ProductFactory)
    supplier_sku = factory.Sequence(lambda n: f"SUP-{n:05d}")
    cost = Decimal("10.00")


class ReorderPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReorderPolicy

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    method = PolicyMethod.MIN_MAX
    min_quantity = 10
    max_quantity = 50
    reorder_level = factory.LazyAttribute(lambda o: o.min_quantity)


def offer(product, supplier, *, cost="10.00", breaks=(), **fields) -> SupplierProduct:
    """A catalogue entry through the service (validated), with optional (quantity, cost) breaks."""
    return services.supplier_product_save(
        supplier_product=SupplierProduct(supplier=supplier, product=product, cost=Decimal(cost), **fields),
        price_breaks=[services.PriceBreakInput(q, Decimal(c)) for q, c in breaks],
    )


def sent_order(supplier, warehouse, *lines, user=None):
    """A purchase order created and sent through the services: lines are (product, quantity)."""
    created = services.purchase_order_create(
        supplier=supplier, warehouse=warehouse,
        lines=[services.PurchaseOrderLineInput(product=p.pk, quantity=q) for p, q in lines], user=user,
    )
    return services.purchase_order_send(purchase_order=created.purchase_order, user=user)
