"""Portal input for purchasing: field validation here, business rules in suppliers.services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.limits import MAX_NOTES_LENGTH, MAX_PURCHASE_ORDER_LINES, MAX_QUANTITY
from core.validators import validate_planned_date
from inventory.models import Product, Warehouse
from suppliers.models import PurchaseOrderLine, Supplier, SupplierProduct
from suppliers.services import PriceBreakInput


def attach_service_error(form: forms.BaseForm, error: DomainError) -> None:
    """Show a service's error on the field it names (or on top of the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = [
            "code", "name", "contact_name", "email", "phone", "address", "country", "currency",
            "payment_terms", "default_lead_time_days", "landed_cost_percent", "active", "notes",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3}), "notes": forms.Textarea(attrs={"rows": 3})}


class SupplierProductForm(forms.ModelForm):
    sku = forms.CharField(label=_("Our SKU"), max_length=64)
    price_breaks = forms.CharField(
        label=_("Price breaks"), required=False, max_length=MAX_NOTES_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: from quantity = unit cost, e.g. 100 = 9.50"),
    )

    class Meta:
        model = SupplierProduct
        fields = ["supplier_sku", "cost", "currency", "minimum_order_quantity", "pack_size", "lead_time_days",
                  "preferred", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["sku", *self.Meta.fields, "price_breaks"])
        self.fields["cost"].required = True
        if self.instance.pk:
            self.fields["sku"].initial = self.instance.product.sku
            self.fields["sku"].disabled = True
            self.fields["price_breaks"].initial = "\n".join(
                f"{b.min_quantity} = {b.unit_cost.normalize()}" for b in self.instance.price_breaks.all()
            )

    def clean_sku(self) -> Product:
        if self.instance.pk:
            return self.instance.product
        product = Product.objects.filter(sku=self.cleaned_data["sku"].strip()).first()
        if product is None:
            raise ValidationError(_("No product has this SKU."))
        return product

    def clean_price_breaks(self) -> list[PriceBreakInput]:
        breaks = []
        for number, raw in enumerate((self.cleaned_data.get("price_breaks") or "").splitlines(), start=1):
            if not raw.strip():
                continue
            quantity, _sep, cost = raw.partition("=")
            try:
                breaks.append(PriceBreakInput(int(quantity.strip()), Decimal(cost.strip())))
            except (ValueError, InvalidOperation) as exc:
                raise ValidationError(
                    _("Line %(number)s: write “quantity = unit cost”."), params={"number": number}
                ) from exc
        return breaks


class PurchaseOrderForm(forms.Form):
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=Supplier.objects.active())
    warehouse = forms.ModelChoiceField(label=_("Deliver to"), queryset=Warehouse.objects.filter(active=True))
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=MAX_NOTES_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


_UNIT_COST = PurchaseOrderLine._meta.get_field("unit_cost")


class PurchaseOrderLineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    unit_cost = forms.DecimalField(
        label=_("Unit cost"), required=False, min_value=Decimal("0"),
        max_digits=_UNIT_COST.max_digits, decimal_places=_UNIT_COST.decimal_places,
        help_text=_("Empty: the supplier's price for this quantity."),
    )


LineFormSet = forms.formset_factory(
    PurchaseOrderLineForm, extra=3, min_num=1, validate_min=True,
    max_num=MAX_PURCHASE_ORDER_LINES, validate_max=True, absolute_max=MAX_PURCHASE_ORDER_LINES,
)


class ReceiveForm(forms.Form):
    """One quantity field per open line (`line_<id>`), plus the delivery note."""

    delivery_note = forms.CharField(label=_("Delivery note"), max_length=100, required=False)

    def __init__(self, *args: Any, lines: list[PurchaseOrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.line_no}. {line.product.sku}", min_value=0, max_value=MAX_QUANTITY, required=False,
                initial=0,
            )

    def line_fields(self) -> list[tuple[PurchaseOrderLine, forms.BoundField]]:
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]

    def quantities(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data[f"line_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        }


class ConfirmDatesForm(forms.Form):
    """The supplier's confirmed delivery date per line (`date_<id>`)."""

    def __init__(self, *args: Any, lines: list[PurchaseOrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"date_{line.pk}"] = forms.DateField(
                label=f"{line.line_no}. {line.product.sku}", required=False, initial=line.confirmed_date,
                validators=[validate_planned_date], widget=forms.DateInput(attrs={"type": "date"}),
            )

    def line_fields(self) -> list[tuple[PurchaseOrderLine, forms.BoundField]]:
        return [(line, self[f"date_{line.pk}"]) for line in self.lines]

    def dates(self) -> dict[int, Any]:
        return {
            line.pk: self.cleaned_data[f"date_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"date_{line.pk}")
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class ScorecardPeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"), coerce=int, required=False, initial=90,
        choices=[(30, _("Last 30 days")), (90, _("Last 90 days")), (180, _("Last 180 days")), (365, _("Last year"))],
    )
