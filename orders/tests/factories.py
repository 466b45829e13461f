"""factory_boy factories for orders; `place` creates an order through the real service."""

from __future__ import annotations

from typing import Any

import factory

from orders import services
from orders.models import Channel, Customer


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = "web"
    name = factory.LazyAttribute(lambda o: o.code.title())
    kind = "web"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


def place(*lines: tuple[str, int], channel: str = "web", external_ref: str = "", allow_backorder: bool = True,
          email: str = "ada@example.com", user=None, **kwargs) -> services.PlacedOrder:
    """Place an order through orders.services.place_order with sensible defaults."""
    ChannelFactory(code=channel)
    return services.place_order(
        channel=channel,
        customer=services.CustomerInput(name="Ada Li", email=email),
        ship_to=services.AddressInput(line1="1 Main St", city="Shanghai", postal_code="200000", country="CN",
                                      lat=31.23, lon=121.47),
        lines=[services.LineInput(sku=sku, quantity=quantity) for sku, quantity in lines],
        external_ref=external_ref,
        allow_backorder=allow_backorder,
        user=user,
        **kwargs,
    )


def api_order_body(**overrides: Any) -> dict[str, Any]:
    """A POST /api/v1/orders/ body as DESIGN.md writes it (no external_ref unless given)."""
    body: dict[str, Any] = {
        "channel": "web",
        "customer": {"name": "Ada Li", "email": "ada@example.com"},
        "ship_to": {"line1": "1 Main St", "city": "Shanghai", "postal_code": "200000", "country": "CN",
                    "lat": 31.23, "lon": 121.47},
        "lines": [{"sku": "SKU-0001", "quantity": 2, "unit_price": "19.90"}],
        "allow_backorder": True,
    }
    body.update(overrides)
    return body
