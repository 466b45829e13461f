"""Stock movement forms. Validation of the business rules stays in inventory.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.limits import MAX_QUANTITY
from inventory.models import Product, Warehouse


class _ProductField(forms.CharField):
    """A SKU typed by the user, cleaned into the Product."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(label=_("SKU"), max_length=64, **kwargs)

    def clean(self, value: Any) -> Product:
        sku = (super().clean(value) or "").strip()
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise forms.ValidationError(_("Unknown SKU %(sku)s.") % {"sku": sku})
        return product


def _warehouse_field(label: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label, queryset=Warehouse.objects.filter(active=True).order_by("priority", "code"), to_field_name="code"
    )


class StockFormMixin:
    # service error field -> form field
    SERVICE_FIELDS: dict[str, str] = {}

    def attach_service_error(self, error: DomainError) -> None:
        field = self.SERVICE_FIELDS.get(error.field or "", error.field)
        if field not in self.fields:  # type: ignore[attr-defined]
            field = None
        self.add_error(field, error.message)  # type: ignore[attr-defined]


class StockAdjustmentForm(StockFormMixin, forms.Form):
    product = _ProductField()
    warehouse = _warehouse_field(_("Warehouse"))
    quantity = forms.IntegerField(
        label=_("Change"), min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY,
        help_text=_("Signed: positive adds units, negative removes them."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_quantity(self) -> int:
        value = self.cleaned_data["quantity"]
        if value == 0:
            raise forms.ValidationError(_("The change must not be zero."))
        return value

    def clean_reason(self) -> str:
        value = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError(_("A reason is required."))
        return value


class StockTransferForm(StockFormMixin, forms.Form):
    product = _ProductField()
    from_warehouse = _warehouse_field(_("From warehouse"))
    to_warehouse = _warehouse_field(_("To warehouse"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)

    SERVICE_FIELDS = {"quantity": "quantity", "to_warehouse": "to_warehouse"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        source, target = cleaned.get("from_warehouse"), cleaned.get("to_warehouse")
        if source is not None and source == target:
            self.add_error("to_warehouse", _("Choose two different warehouses."))
        return cleaned


class CycleCountForm(StockFormMixin, forms.Form):
    product = _ProductField()
    warehouse = _warehouse_field(_("Warehouse"))
    counted = forms.IntegerField(label=_("Counted quantity"), min_value=0, max_value=MAX_QUANTITY)
    reason = forms.CharField(label=_("Note"), max_length=255, required=False)
