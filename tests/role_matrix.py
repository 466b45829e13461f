"""R20's action table: every consequential action of every resource, the endpoints that run it in
the portal, the API and the admin, the permission each endpoint asks for, and how to bring a fresh
database into the state the action needs. tests/test_role_matrix.py runs every row for every role
and compares the table with core/roles.py and with the README's "Who may do what" table.

The permissions are written out here on purpose (not imported from the code under test): a view
that starts asking for a weaker one fails the matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.urls import reverse
from django.utils import timezone

PORTAL, API, ADMIN = "portal", "api", "admin"
# Routes whose last URL parameter is the action's slug.
SLUG_ROUTES = frozenset({"orders:order_action", "suppliers:purchase_order_action"})
# Every table of these apps is compared before and after a refused call: nothing may change.
STATE_APPS = ("core", "orders", "inventory", "suppliers", "logistics", "analytics", "integrations")

Target = dict[str, Any]


@dataclass
class World:
    warehouse: Any  # MX-A, holding 50 units of `product`
    other_warehouse: Any  # MX-B, empty
    product: Any  # MX-1, in `supplier`'s catalogue
    spare: Any  # MX-2, no stock, in no catalogue
    supplier: Any


def build_world() -> World:
    from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
    from orders.tests.factories import ChannelFactory
    from suppliers.tests.factories import SupplierFactory, offer

    ChannelFactory(code="web")
    ChannelFactory(code="phone", kind="phone")
    world = World(
        warehouse=WarehouseFactory(code="MX-A"), other_warehouse=WarehouseFactory(code="MX-B"),
        product=ProductFactory(sku="MX-1"), spare=ProductFactory(sku="MX-2"),
        supplier=SupplierFactory(code="mx-sup", name="Matrix Supplies"),
    )
    give_stock(world.product, world.warehouse, 50)
    offer(world.product, world.supplier, cost="4.00")
    return world


def state_fingerprint() -> dict[str, list[tuple]]:
    """Every row of every domain table (the test database is small), to compare before and after."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.app_label in STATE_APPS and model._meta.managed and not model._meta.proxy
    }


# --- endpoints and actions --------------------------------------------------------------------
def _no_data(world: World, target: Target) -> dict:
    return {}


@dataclass(frozen=True)
class Endpoint:
    channel: str
    url_name: str
    needs: tuple[str, ...]  # any one of these permissions allows the call
    ids: tuple[str, ...] = ()  # prepared objects whose ids go into the URL, in order
    slug: str = ""  # the action: in the URL (SLUG_ROUTES), the bulk form or the admin action
    method: str = "post"
    data: Callable[[World, Target], dict] = _no_data

    def path(self, target: Target) -> str:
        args: list[Any] = [target[name].pk for name in self.ids]
        if self.url_name in SLUG_ROUTES:
            args.append(self.slug)
        return reverse(self.url_name, args=args)

    @property
    def label(self) -> str:
        return f"{self.channel} {self.method.upper()} {self.url_name}{'/' + self.slug if self.slug else ''}"


@dataclass(frozen=True)
class Action:
    resource: str
    label: str  # with `resource`, the row of the README table
    prepare: Callable[[World], Target]
    endpoints: tuple[Endpoint, ...]
    suppliers: bool = False  # a supplier login may do it (on its own supplier's orders)

    @property
    def key(self) -> str:
        return f"{self.resource}: {self.label}"


# --- preparing the state an action needs ------------------------------------------------------
def nothing(world: World) -> Target:
    return {}


def _placed(world: World, sku: str | None = None) -> Any:
    from orders.tests.factories import place

    return place((sku or world.product.sku, 2)).order


def draft_order(world: World) -> Target:
    from orders.models import Address, OrderLine, SalesOrder
    from orders.statuses import OrderStatus
    from orders.tests.factories import ChannelFactory, CustomerFactory

    customer = CustomerFactory()
    address = Address.objects.create(customer=customer, line1="1 Main St", city="Shanghai")
    order = SalesOrder.objects.create(channel=ChannelFactory(code="web"), customer=customer, ship_to=address,
                                      status=OrderStatus.DRAFT)
    OrderLine.objects.create(order=order, line_no=1, product=world.product, quantity=2, unit_price=Decimal("19.90"))
    return {"order": order}


def allocated_order(world: World) -> Target:
    return {"order": _placed(world)}


def backordered_order_with_stock_arrived(world: World) -> Target:
    from inventory.tests.factories import give_stock

    order = _placed(world, world.spare.sku)
    give_stock(world.spare, world.warehouse, 5)  # reallocation waits in the outbox
    return {"order": order}


def held_order(world: World) -> Target:
    from orders import services

    return {"order": services.hold_order(order=_placed(world), reason="matrix")}


def shipped_order(world: World) -> Target:
    from orders import services

    order = _placed(world)
    services.ship_order(order=order)
    return {"order": order}


def delivered_order(world: World) -> Target:
    from orders import services

    return {"order": services.mark_delivered(order=shipped_order(world)["order"])}


def supplier_and_offer(world: World) -> Target:
    return {"supplier": world.supplier, "offer": world.supplier.products.get(product=world.product)}


def product(world: World) -> Target:
    return {"product": world.product}


def draft_po(world: World) -> Target:
    from suppliers import services

    created = services.purchase_order_create(
        supplier=world.supplier, warehouse=world.warehouse,
        lines=[services.PurchaseOrderLineInput(product=world.product.pk, quantity=5)],
    )
    return {"po": created.purchase_order, "line": created.purchase_order.lines.get()}


def sent_po(world: World) -> Target:
    from suppliers.tests.factories import sent_order

    po = sent_order(world.supplier, world.warehouse, (world.product, 5))
    return {"po": po, "line": po.lines.get()}


def partially_received_po(world: World) -> Target:
    from suppliers import services

    target = sent_po(world)
    services.purchase_order_receive(purchase_order=target["po"],
                                    lines=[services.ReceiptLineInput(line_id=target["line"].pk, quantity=1)])
    return target


def planner_suggestion(world: World) -> Target:
    from suppliers import planner
    from suppliers.models import PurchaseOrder
    from suppliers.tests.factories import ReorderPolicyFactory

    ReorderPolicyFactory(product=world.product, warehouse=world.other_warehouse, min_quantity=10, max_quantity=20)
    planner.run_replenishment()
    po = PurchaseOrder.objects.get(source="planner", status="draft")
    return {"po": po, "line": po.lines.get()}


def exchange_rate(world: World) -> Target:
    from core.models import ExchangeRate

    return {"rate": ExchangeRate.objects.create(currency="USD", rate=Decimal("7.1"), valid_from=timezone.localdate())}


# --- request bodies ---------------------------------------------------------------------------
def _later(days: int = 9) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _order_lines(sku: str, quantity: int) -> dict:
    return {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000", "lines-0-sku": sku, "lines-0-quantity": str(quantity)}


def order_form(world: World, target: Target) -> dict:
    return {"channel": "phone", "customer_name": "Ada Li", "customer_email": "ada@example.com",
            "ship_line1": "1 Main St", "ship_city": "Shanghai", "ship_postal_code": "200000",
            "ship_country": "CN", "allow_backorder": "on", **_order_lines(world.product.sku, 2)}


def order_edit_form(world: World, target: Target) -> dict:
    return {"ship_line1": "2 Other St", "ship_city": "Shanghai", "ship_postal_code": "200000", "ship_country": "CN",
            **_order_lines(world.product.sku, 3)}


def order_api_body(world: World, target: Target) -> dict:
    from orders.tests.factories import api_order_body

    return api_order_body(lines=[{"sku": world.product.sku, "quantity": 2, "unit_price": "19.90"}])


def reason(world: World, target: Target) -> dict:
    return {"reason": "matrix"}


def bulk(action: str) -> Callable[[World, Target], dict]:
    return lambda world, target: {"action": action, "ids": [target["order"].pk], "reason": "matrix"}


def adjust_form(world: World, target: Target) -> dict:
    return {"product": world.product.sku, "warehouse": world.warehouse.code, "quantity": "-1", "reason": "matrix"}


def adjust_api_body(world: World, target: Target) -> dict:
    return {"sku": world.product.sku, "warehouse": world.warehouse.code, "quantity": -1, "reason": "matrix"}


def transfer_form(world: World, target: Target) -> dict:
    return {"product": world.product.sku, "from_warehouse": world.warehouse.code,
            "to_warehouse": world.other_warehouse.code, "quantity": "1"}


def count_form(world: World, target: Target) -> dict:
    return {"product": world.product.sku, "warehouse": world.warehouse.code, "counted": "49"}


def product_body(world: World, target: Target) -> dict:
    return {"sku": "MX-NEW", "name": "Made by the matrix"}


def product_rename(world: World, target: Target) -> dict:
    return {"sku": world.product.sku, "name": "Renamed by the matrix"}


def supplier_form(world: World, target: Target) -> dict:
    return {"code": "mx-new", "name": "New Supplies", "country": "CN", "currency": "CNY",
            "payment_terms": "30 days net", "default_lead_time_days": "14", "landed_cost_percent": "0",
            "active": "on"}


def supplier_api_body(world: World, target: Target) -> dict:
    return {"code": "mx-new", "name": "New Supplies"}


def supplier_edit_form(world: World, target: Target) -> dict:
    return {**supplier_form(world, target), "code": world.supplier.code, "name": "Renamed Supplies"}


def supplier_rename(world: World, target: Target) -> dict:
    return {"code": world.supplier.code, "name": "Renamed Supplies"}


def offer_form(world: World, target: Target) -> dict:
    return {"sku": world.spare.sku, "supplier_sku": "S-2", "cost": "4.00", "currency": "CNY",
            "minimum_order_quantity": "1", "pack_size": "1", "active": "on", "price_breaks": ""}


def offer_edit_form(world: World, target: Target) -> dict:
    return {**offer_form(world, target), "supplier_sku": "S-1B", "cost": "3.50"}


def po_form(world: World, target: Target) -> dict:
    return {"supplier": world.supplier.pk, "warehouse": world.warehouse.pk, "notes": "",
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "200", "lines-0-sku": world.product.sku, "lines-0-quantity": "3",
            "lines-0-unit_cost": ""}


def po_api_body(world: World, target: Target) -> dict:
    return {"supplier": world.supplier.code, "warehouse": world.warehouse.code,
            "lines": [{"sku": world.product.sku, "quantity": 3}]}


def receive_form(world: World, target: Target) -> dict:
    return {f"line_{target['line'].pk}": "2", "delivery_note": "DN-MX"}


def receive_api_body(world: World, target: Target) -> dict:
    return {"lines": [{"line_id": target["line"].pk, "quantity": 2}], "delivery_note": "DN-MX"}


def dates_form(world: World, target: Target) -> dict:
    return {f"date_{target['line'].pk}": _later()}


def dates_api_body(world: World, target: Target) -> dict:
    return {"lines": [{"line_id": target["line"].pk, "confirmed_date": _later()}]}


def admin_action(name: str) -> Callable[[World, Target], dict]:
    return lambda world, target: {"action": name, "_selected_action": [target["po"].pk]}


def admin_po_form(world: World, target: Target) -> dict:
    """The admin change form of a purchase order: its three editable fields and the two
    read-only inlines' management forms."""
    po = target["po"]
    data = {"expected_date": _later(), "payment_terms": "60 days net", "notes": "edited in the admin", "_save": "Save"}
    for prefix, rows in (("lines", po.lines.order_by("pk")), ("events", po.events.order_by("pk"))):
        ids = list(rows.values_list("pk", flat=True))
        data.update({f"{prefix}-TOTAL_FORMS": str(len(ids)), f"{prefix}-INITIAL_FORMS": str(len(ids)),
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
        for index, pk in enumerate(ids):
            data.update({f"{prefix}-{index}-id": str(pk), f"{prefix}-{index}-purchase_order": str(po.pk)})
    return data


def rate_form(world: World, target: Target) -> dict:
    return {"currency": "USD", "rate": "7.25", "valid_from": timezone.localdate().isoformat()}


def suggestion_pick(world: World, target: Target) -> dict:
    return {"purchase_order": [target["po"].pk]}


def suggestion_quantity(world: World, target: Target) -> dict:
    return {"quantity": "7"}


# --- the table --------------------------------------------------------------------------------
ADD_ORDER, CHANGE_ORDER, FULFIL = "orders.add_salesorder", "orders.change_salesorder", "orders.fulfil_salesorder"
CHANGE_STOCK, ADD_MOVEMENT = "inventory.change_stocklevel", "inventory.add_stockmovement"
ADD_PRODUCT, CHANGE_PRODUCT = "inventory.add_product", "inventory.change_product"
ADD_SUPPLIER, CHANGE_SUPPLIER = "suppliers.add_supplier", "suppliers.change_supplier"
ADD_PO, CHANGE_PO = "suppliers.add_purchaseorder", "suppliers.change_purchaseorder"
SEND_PO, CANCEL_PO = "suppliers.send_purchaseorder", "suppliers.cancel_purchaseorder"
RECEIVE_PO, ACKNOWLEDGE_PO = "suppliers.receive_purchaseorder", "suppliers.acknowledge_purchaseorder"
ADD_RATE, CHANGE_RATE = "core.add_exchangerate", "core.change_exchangerate"


def _order_action(slug: str, needs: tuple[str, ...] = (CHANGE_ORDER,), data: Callable = _no_data) -> Endpoint:
    return Endpoint(PORTAL, "orders:order_action", needs, ids=("order",), slug=slug, data=data)


def _bulk(slug: str) -> Endpoint:
    return Endpoint(PORTAL, "orders:order_bulk_action", (CHANGE_ORDER,), slug=slug, data=bulk(slug))


def _po_action(slug: str, needs: str, data: Callable = _no_data) -> Endpoint:
    return Endpoint(PORTAL, "suppliers:purchase_order_action", (needs,), ids=("po",), slug=slug, data=data)


def _po_admin_action(slug: str, needs: str) -> Endpoint:
    return Endpoint(ADMIN, "admin:suppliers_purchaseorder_changelist", (needs,), slug=slug, data=admin_action(slug))


def _api(url_name: str, needs: str, data: Callable = _no_data, ids: tuple[str, ...] = (), method: str = "post") -> Endpoint:
    return Endpoint(API, url_name, (needs,), ids=ids, method=method, data=data)


FULFILMENT = (FULFIL, CHANGE_ORDER)  # `change_salesorder` implies fulfilment (orders/views.py)

ACTIONS: tuple[Action, ...] = (
    # sales orders
    Action("sales orders", "place", nothing, (
        Endpoint(PORTAL, "orders:order_create", (ADD_ORDER,), data=order_form),
        _api("order-list", ADD_ORDER, order_api_body))),
    Action("sales orders", "edit lines or address", allocated_order, (
        Endpoint(PORTAL, "orders:order_edit", (CHANGE_ORDER,), ids=("order",), data=order_edit_form),)),
    Action("sales orders", "confirm", draft_order, (_order_action("confirm"),)),
    Action("sales orders", "allocate", backordered_order_with_stock_arrived,
           (_order_action("allocate"), _bulk("allocate"))),
    Action("sales orders", "hold", allocated_order, (_order_action("hold", data=reason), _bulk("hold"))),
    Action("sales orders", "release a hold", held_order, (_order_action("release"),)),
    Action("sales orders", "start picking", allocated_order, (_order_action("pick", FULFILMENT),)),
    Action("sales orders", "ship", allocated_order, (_order_action("ship", FULFILMENT),)),
    Action("sales orders", "mark delivered", shipped_order, (_order_action("deliver", FULFILMENT),)),
    Action("sales orders", "close", delivered_order, (_order_action("close"),)),
    Action("sales orders", "cancel", allocated_order, (
        _order_action("cancel", data=reason), _bulk("cancel"),
        _api("order-cancel", CHANGE_ORDER, reason, ids=("order",)))),
    # stock and products
    Action("stock", "adjust", nothing, (
        Endpoint(PORTAL, "inventory:stock_adjust", (CHANGE_STOCK,), data=adjust_form),
        _api("stock-adjustment", ADD_MOVEMENT, adjust_api_body))),
    Action("stock", "transfer", nothing, (Endpoint(PORTAL, "inventory:stock_transfer", (CHANGE_STOCK,), data=transfer_form),)),
    Action("stock", "cycle count", nothing, (Endpoint(PORTAL, "inventory:stock_count", (CHANGE_STOCK,), data=count_form),)),
    Action("products", "create", nothing, (_api("product-list", ADD_PRODUCT, product_body),)),
    Action("products", "edit", product, (
        _api("product-detail", CHANGE_PRODUCT, product_rename, ids=("product",), method="put"),
        _api("product-detail", CHANGE_PRODUCT, product_rename, ids=("product",), method="patch"))),
    # suppliers and their catalogue
    Action("suppliers", "create", nothing, (
        Endpoint(PORTAL, "suppliers:supplier_create", (ADD_SUPPLIER,), data=supplier_form),
        _api("supplier-list", ADD_SUPPLIER, supplier_api_body))),
    Action("suppliers", "edit", supplier_and_offer, (
        Endpoint(PORTAL, "suppliers:supplier_edit", (CHANGE_SUPPLIER,), ids=("supplier",), data=supplier_edit_form),
        _api("supplier-detail", CHANGE_SUPPLIER, supplier_rename, ids=("supplier",), method="put"),
        _api("supplier-detail", CHANGE_SUPPLIER, supplier_rename, ids=("supplier",), method="patch"))),
    Action("suppliers", "add a catalogue entry", supplier_and_offer, (
        Endpoint(PORTAL, "suppliers:supplier_product_create", (CHANGE_SUPPLIER,), ids=("supplier",), data=offer_form),)),
    Action("suppliers", "edit a catalogue entry", supplier_and_offer, (
        Endpoint(PORTAL, "suppliers:supplier_product_edit", (CHANGE_SUPPLIER,), ids=("supplier", "offer"),
                 data=offer_edit_form),)),
    # purchase orders
    Action("purchase orders", "create a draft", nothing, (
        Endpoint(PORTAL, "suppliers:purchase_order_create", (ADD_PO,), data=po_form),
        _api("purchase-order-list", ADD_PO, po_api_body))),
    Action("purchase orders", "edit notes and dates (admin)", sent_po, (
        Endpoint(ADMIN, "admin:suppliers_purchaseorder_change", (CHANGE_PO,), ids=("po",), data=admin_po_form),)),
    Action("purchase orders", "approve and send", draft_po, (
        _po_action("send", SEND_PO), _api("purchase-order-send", SEND_PO, ids=("po",)),
        _po_admin_action("approve_and_send", SEND_PO))),
    Action("purchase orders", "e-mail again", sent_po, (_po_action("email", SEND_PO),)),
    Action("purchase orders", "cancel", sent_po, (
        _po_action("cancel", CANCEL_PO, reason), _api("purchase-order-cancel", CANCEL_PO, reason, ids=("po",)))),
    Action("purchase orders", "close", partially_received_po, (
        _po_action("close", CANCEL_PO), _po_admin_action("close", CANCEL_PO))),
    Action("purchase orders", "receive goods", sent_po, (
        Endpoint(PORTAL, "suppliers:purchase_order_receive", (RECEIVE_PO,), ids=("po",), data=receive_form),
        _api("purchase-order-receive", RECEIVE_PO, receive_api_body, ids=("po",)))),
    Action("purchase orders", "acknowledge", sent_po, (
        Endpoint(PORTAL, "suppliers:purchase_order_acknowledge", (ACKNOWLEDGE_PO,), ids=("po",), data=dates_form),
        _api("purchase-order-acknowledge", ACKNOWLEDGE_PO, dates_api_body, ids=("po",)),
        _po_admin_action("acknowledge", ACKNOWLEDGE_PO)), suppliers=True),
    Action("purchase orders", "confirm delivery dates", partially_received_po, (
        Endpoint(PORTAL, "suppliers:purchase_order_acknowledge", (ACKNOWLEDGE_PO,), ids=("po",), data=dates_form),
        _api("purchase-order-acknowledge", ACKNOWLEDGE_PO, dates_api_body, ids=("po",))), suppliers=True),
    # replenishment
    Action("replenishment", "run the planner", nothing, (Endpoint(PORTAL, "suppliers:replenishment_run", (ADD_PO,)),)),
    Action("replenishment", "approve suggestions", planner_suggestion, (
        Endpoint(PORTAL, "suppliers:suggestion_approve", (SEND_PO,), data=suggestion_pick),)),
    Action("replenishment", "change suggested quantities", planner_suggestion, (
        Endpoint(PORTAL, "suppliers:suggestion_line_quantity", (CHANGE_PO,), ids=("line",), data=suggestion_quantity),)),
    # exchange rates (the admin only)
    Action("exchange rates", "add (admin)", nothing, (Endpoint(ADMIN, "admin:core_exchangerate_add", (ADD_RATE,), data=rate_form),)),
    Action("exchange rates", "edit (admin)", exchange_rate, (
        Endpoint(ADMIN, "admin:core_exchangerate_change", (CHANGE_RATE,), ids=("rate",), data=rate_form),)),
)
