"""Who may do what to a purchase order: one permission per consequential action.

Receiving, approving/sending, cancelling/closing and acknowledging are separate rights, so the
Warehouse role can receive goods without being able to send, cancel or acknowledge an order
(core/roles.py hands them out). `change_purchaseorder` only edits a draft — a replenishment
suggestion's quantities, the notes in the admin — and implies none of the actions.
"""

from __future__ import annotations

VIEW = "suppliers.view_purchaseorder"
CREATE = "suppliers.add_purchaseorder"  # a draft by hand, or drafts by running the planner
EDIT_DRAFT = "suppliers.change_purchaseorder"
SEND = "suppliers.send_purchaseorder"  # approve a draft (a suggestion too), send it, e-mail it again
CANCEL = "suppliers.cancel_purchaseorder"  # cancel, or close (short-close) a received one
RECEIVE = "suppliers.receive_purchaseorder"
ACKNOWLEDGE = "suppliers.acknowledge_purchaseorder"  # accept on the supplier's side, confirm dates

# The portal's purchase_order_action, by its `action` slug.
PORTAL_ACTIONS: dict[str, str] = {"send": SEND, "email": SEND, "cancel": CANCEL, "close": CANCEL}
# The API's actions on one purchase order (PurchaseOrderViewSet's @action names).
API_ACTIONS: dict[str, str] = {"send": SEND, "cancel": CANCEL, "receive": RECEIVE, "acknowledge": ACKNOWLEDGE}
