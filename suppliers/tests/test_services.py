"""Purchase-order services: lifecycle, receiving into the ledger, backorders, bad input, ATP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.exceptions import Conflict, NotFound, ValidationFailed
from inventory.models import StockLevel, StockMovement
from inventory.selectors import low_stock, verify_ledger
from inventory.tests.factories import ProductFactory, WarehouseFactory, give_stock
from suppliers import selectors, services
from suppliers.models import GoodsReceipt, PurchaseOrder, PurchaseOrderEvent, ReorderPolicy, SupplierProduct
from suppliers.statuses import PolicyMethod, PurchaseOrderStatus
from suppliers.tests.factories import ReorderPolicyFactory, SupplierFactory, offer, sent_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    warehouse, supplier = WarehouseFactory(code="WH1"), SupplierFactory(code="acme")
    widget, gadget = ProductFactory(sku="WIDGET"), ProductFactory(sku="GADGET")
    offer(widget, supplier, cost="4.00", breaks=[(100, "3.50")])
    offer(gadget, supplier, cost="7.00")
    return {"warehouse": warehouse, "supplier": supplier, "widget": widget, "gadget": gadget}


def receive(po, *pairs, **kwargs):
    return services.purchase_order_receive(
        purchase_order=po, lines=[services.ReceiptLineInput(line_id=line.pk, quantity=q) for line, q in pairs], **kwargs
    )


def test_create_prices_lines_from_the_catalogue_with_breaks(world):
    created = services.purchase_order_create(
        supplier=world["supplier"], warehouse=world["warehouse"],
        lines=[services.PurchaseOrderLineInput(product="WIDGET", quantity=120),
               services.PurchaseOrderLineInput(product=world["gadget"].pk, quantity=2)],
    )

    po = created.purchase_order
    assert po.status == PurchaseOrderStatus.DRAFT
    assert po.number.startswith("PO-")
    assert sorted(po.lines.values_list("unit_cost", flat=True)) == [Decimal("3.5000"), Decimal("7.0000")]
    assert po.total == Decimal("434.00")
    assert created.warnings == []


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"product": "NOPE", "quantity": 1}, "lines[0].product"),
        ({"product": "WIDGET", "quantity": -3}, "lines[0].quantity"),
        ({"product": "WIDGET", "quantity": 0}, "lines[0].quantity"),
        ({"product": "WIDGET", "quantity": 2, "unit_cost": "-1"}, "lines[0].unit_cost"),
    ],
)
def test_create_refuses_bad_lines_and_writes_nothing(world, line, field):
    with pytest.raises(ValidationFailed) as error:
        services.purchase_order_create(
            supplier=world["supplier"], warehouse=world["warehouse"], lines=[services.PurchaseOrderLineInput(**line)]
        )

    assert error.value.field == field
    assert PurchaseOrder.objects.count() == 0


def test_create_refuses_a_product_without_any_known_cost(world):
    stranger = ProductFactory(sku="STRANGER")

    with pytest.raises(ValidationFailed, match="no cost for STRANGER"):
        services.purchase_order_create(
            supplier=world["supplier"], warehouse=world["warehouse"],
            lines=[services.PurchaseOrderLineInput(product=stranger.pk, quantity=1)],
        )
    assert PurchaseOrder.objects.count() == 0


def test_supplier_product_without_cost_is_refused(world):
    with pytest.raises(ValidationFailed) as error:
        services.supplier_product_save(
            supplier_product=SupplierProduct(supplier=world["supplier"], product=ProductFactory(), cost=None)
        )
    assert error.value.field == "cost"


def test_policy_with_max_below_min_is_refused_and_the_database_agrees(world):
    policy = ReorderPolicy(product=world["widget"], warehouse=world["warehouse"], method=PolicyMethod.MIN_MAX,
                           min_quantity=50, max_quantity=10)

    with pytest.raises(ValidationFailed) as error:
        services.reorder_policy_save(policy=policy)

    assert error.value.field == "max_quantity"
    assert ReorderPolicy.objects.count() == 0
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        policy.save()


def test_lifecycle_follows_the_table(world):
    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10))
    assert po.status == PurchaseOrderStatus.SENT
    assert po.sent_at is not None

    with pytest.raises(Conflict):
        services.purchase_order_send(purchase_order=po)
    with pytest.raises(Conflict):
        services.purchase_order_close(purchase_order=po)

    po = services.purchase_order_acknowledge(purchase_order=po)
    assert po.status == PurchaseOrderStatus.ACKNOWLEDGED
    po = services.purchase_order_cancel(purchase_order=po, reason="not needed")
    assert po.status == PurchaseOrderStatus.CANCELLED
    assert list(po.events.values_list("to_status", flat=True)) == ["draft", "sent", "acknowledged", "cancelled"]


def test_sending_enqueues_the_email_through_the_outbox(world):
    from core.models import OutboxMessage

    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10))

    message = OutboxMessage.objects.get(task_name="suppliers.tasks.email_purchase_order_task")
    assert message.kwargs == {"purchase_order_id": po.pk}


def test_email_task_sends_the_pdf_to_the_supplier(world, mailoutbox):
    from suppliers.tasks import email_purchase_order_task

    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10))

    assert email_purchase_order_task(po.pk) is True

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["acme@suppliers.example.com"]
    assert po.number in message.subject
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == (f"{po.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    po.refresh_from_db()
    assert po.emailed_at is not None


def test_receiving_posts_ledger_receipts_and_completes_the_order(world):
    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10), (world["gadget"], 5))
    widget_line, gadget_line = po.lines.order_by("line_no")

    receipt = receive(po, (widget_line, 4))
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert StockLevel.objects.get(product=world["widget"]).on_hand == 4
    movement = StockMovement.objects.get(product=world["widget"])
    assert (movement.kind, movement.quantity, movement.reference) == ("receipt", 4, f"{po.number}/{receipt.number}")

    receive(po, (widget_line, 6), (gadget_line, 5))
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.RECEIVED
    assert StockLevel.objects.get(product=world["gadget"]).on_hand == 5
    assert GoodsReceipt.objects.filter(purchase_order=po).count() == 2
    assert verify_ledger() == []


@pytest.mark.parametrize("quantity", [0, -2])
def test_receipt_with_a_bad_quantity_writes_nothing(world, quantity):
    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10))

    with pytest.raises(ValidationFailed):
        receive(po, (po.lines.get(), quantity))

    assert not StockMovement.objects.exists()
    assert not GoodsReceipt.objects.exists()


def test_receipt_of_an_unknown_line_writes_nothing(world):
    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10))
    other = sent_order(world["supplier"], world["warehouse"], (world["gadget"], 10))
    own_line = po.lines.get()

    with pytest.raises(ValidationFailed, match="is not on purchase order"):
        receive(po, (own_line, 5), (other.lines.get(), 5))

    assert not StockMovement.objects.exists()
    own_line.refresh_from_db()
    assert own_line.quantity_received == 0


def test_over_receipt_is_refused_beyond_the_tolerance(world, settings):
    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 100))
    line = po.lines.get()

    with pytest.raises(ValidationFailed, match="at most 100 are allowed") as error:
        receive(po, (line, 101))
    assert error.value.details[0]["allowed_total"] == 100
    assert not StockMovement.objects.exists()

    settings.PURCHASING_OVER_RECEIPT_TOLERANCE_PERCENT = Decimal("5")
    receive(po, (line, 105))
    line.refresh_from_db()
    assert line.quantity_received == 105


def test_receipt_on_a_draft_or_cancelled_order_is_refused(world):
    draft = services.purchase_order_create(
        supplier=world["supplier"], warehouse=world["warehouse"],
        lines=[services.PurchaseOrderLineInput(product="WIDGET", quantity=1)],
    ).purchase_order

    with pytest.raises(Conflict, match="Draft"):
        receive(draft, (draft.lines.get(), 1))
    assert not StockMovement.objects.exists()


def test_unknown_purchase_order_is_not_found(world):
    with pytest.raises(NotFound):
        services.purchase_order_send(purchase_order=999_999)


def test_confirmed_dates_are_checked_and_recorded(world):
    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10))
    line = po.lines.get()
    soon = timezone.localdate() + timedelta(days=3)

    with pytest.raises(ValidationFailed):
        services.purchase_order_confirm_dates(purchase_order=po, dates={line.pk + 999: soon})
    with pytest.raises(ValidationFailed):
        services.purchase_order_confirm_dates(purchase_order=po, dates={line.pk: timezone.localdate() - timedelta(days=30)})

    services.purchase_order_acknowledge(purchase_order=po, confirmed_dates={line.pk: soon})

    line.refresh_from_db()
    assert line.confirmed_date == soon
    assert PurchaseOrderEvent.objects.filter(purchase_order=po, kind="dates").exists()


def test_supply_date_is_the_first_open_line_with_uncommitted_quantity(world):
    today = timezone.localdate()
    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10))
    services.purchase_order_confirm_dates(purchase_order=po, dates={po.lines.get().pk: today + timedelta(days=4)})

    dates = selectors.expected_supply_dates({world["widget"].pk, world["gadget"].pk}, today)

    assert dates[world["widget"].pk] == today + timedelta(days=4)  # the confirmed PO line
    assert dates[world["gadget"].pk] == today + timedelta(days=10)  # no PO: supplier lead time


def test_low_stock_uses_the_policy_where_one_exists(world):
    other = WarehouseFactory(code="WH2")
    give_stock(world["widget"], world["warehouse"], 8)
    give_stock(world["widget"], other, 8)
    ReorderPolicyFactory(product=world["widget"], warehouse=world["warehouse"], min_quantity=10, max_quantity=30)
    world["widget"].low_stock_threshold = 5
    world["widget"].save()

    rows = {(row.product.sku, row.warehouse.code) for row in low_stock()}

    assert rows == {("WIDGET", "WH1")}  # WH1 at 8 ≤ policy 10; WH2 at 8 > product threshold 5


def test_standing_below_threshold_warns_and_can_block(world, settings):
    settings.SUPPLIER_STANDING_MIN_LINES = 1
    po = sent_order(world["supplier"], world["warehouse"], (world["widget"], 10))
    line = po.lines.get()
    services.purchase_order_confirm_dates(purchase_order=po, dates={line.pk: timezone.localdate()})
    PurchaseOrder.objects.filter(pk=po.pk).update(sent_at=timezone.now() - timedelta(days=20))
    from suppliers.models import PurchaseOrderLine

    PurchaseOrderLine.objects.filter(pk=line.pk).update(confirmed_date=timezone.localdate() - timedelta(days=10))
    receive(po, (line, 5))  # late and short

    created = services.purchase_order_create(
        supplier=world["supplier"], warehouse=world["warehouse"],
        lines=[services.PurchaseOrderLineInput(product="WIDGET", quantity=1)],
    )
    assert created.warnings and "0.0%" in created.warnings[0]

    settings.SUPPLIER_BLOCK_BELOW_STANDING = True
    with pytest.raises(Conflict, match="blocked"):
        services.purchase_order_create(
            supplier=world["supplier"], warehouse=world["warehouse"],
            lines=[services.PurchaseOrderLineInput(product="WIDGET", quantity=1)],
        )
