"""Input validation for the orders portal. The services check the business rules again."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.limits import MAX_NOTES_LENGTH, MAX_ORDER_LINE_QUANTITY, MAX_ORDER_LINES
from core.validators import validate_country_code, validate_planned_date
from orders import services
from orders.models import Channel, OrderLine, SalesOrder
from orders.statuses import ChannelKind

MAX_BULK = 200
PORTAL_CHANNEL_KINDS = (ChannelKind.PHONE, ChannelKind.STORE)


def _control(widget: forms.Widget, **attrs: Any) -> forms.Widget:
    widget.attrs.setdefault("class", "form-control")
    widget.attrs.update(attrs)
    return widget


class OrderForm(forms.Form):
    """Header of a phone or store order: channel, customer, ship-to, options."""

    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.none(), to_field_name="code", empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    customer_name = forms.CharField(label=_("Customer name"), max_length=200, required=False,
                                    widget=_control(forms.TextInput(), autocomplete="off"))
    customer_email = forms.EmailField(label=_("Customer email"), required=False,
                                      widget=_control(forms.EmailInput(), autocomplete="off"))
    customer_phone = forms.CharField(label=_("Phone"), max_length=40, required=False, widget=_control(forms.TextInput()))
    ship_name = forms.CharField(label=_("Recipient"), max_length=200, required=False, widget=_control(forms.TextInput()))
    ship_line1 = forms.CharField(label=_("Address line 1"), max_length=200, widget=_control(forms.TextInput()))
    ship_line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False,
                                 widget=_control(forms.TextInput()))
    ship_city = forms.CharField(label=_("City"), max_length=100, widget=_control(forms.TextInput()))
    ship_region = forms.CharField(label=_("Region"), max_length=100, required=False, widget=_control(forms.TextInput()))
    ship_postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False,
                                       widget=_control(forms.TextInput()))
    ship_country = forms.CharField(label=_("Country"), max_length=2, min_length=2, initial="CN",
                                   widget=_control(forms.TextInput(), size="2"))
    external_ref = forms.CharField(label=_("Reference (receipt, call id)"), max_length=100, required=False,
                                   widget=_control(forms.TextInput()))
    requested_date = forms.DateField(label=_("Requested date"), required=False, validators=[validate_planned_date],
                                     widget=_control(forms.DateInput(attrs={"type": "date"})))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=MAX_NOTES_LENGTH,
                            widget=_control(forms.Textarea(attrs={"rows": 2})))
    allow_backorder = forms.BooleanField(label=_("Allow backorder"), required=False, initial=True,
                                         widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    # service error field -> form field
    SERVICE_FIELDS = {
        "channel": "channel",
        "external_ref": "external_ref",
        "customer.name": "customer_name",
        "customer.email": "customer_email",
        "ship_to.line1": "ship_line1",
        "ship_to.city": "ship_city",
        "ship_to.country": "ship_country",
        "ship_to.postal_code": "ship_postal_code",
    }

    def __init__(self, *args: Any, editing: SalesOrder | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["channel"].queryset = Channel.objects.filter(active=True, kind__in=PORTAL_CHANNEL_KINDS).order_by(
            "kind", "code"
        )
        if editing is not None:
            # Channel, customer and options belong to the placed order; only lines and address change.
            for name in ("channel", "customer_name", "customer_email", "customer_phone", "external_ref",
                         "requested_date", "notes", "allow_backorder"):
                self.fields[name].disabled = True
                self.fields[name].required = False
            self.fields["channel"].queryset = Channel.objects.filter(pk=editing.channel_id)

    def clean_ship_country(self) -> str:
        # Typed by a person: "cn" means CN. The code itself must be an ISO 3166-1 one.
        value = self.cleaned_data["ship_country"].strip().upper()
        validate_country_code(value)
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.editing is None:
            if not cleaned.get("customer_email") and "customer_email" not in self.errors:
                self.add_error("customer_email", _("Pick a customer or enter an email."))
            if not cleaned.get("customer_name") and "customer_name" not in self.errors:
                self.add_error("customer_name", _("Pick a customer or enter a name."))
        return cleaned

    def customer_input(self) -> services.CustomerInput:
        data = self.cleaned_data
        return services.CustomerInput(
            name=data["customer_name"], email=data["customer_email"], phone=data.get("customer_phone") or ""
        )

    def address_input(self) -> services.AddressInput:
        data = self.cleaned_data
        return services.AddressInput(
            name=data.get("ship_name") or "", line1=data["ship_line1"], line2=data.get("ship_line2") or "",
            city=data["ship_city"], region=data.get("ship_region") or "",
            postal_code=data.get("ship_postal_code") or "", country=data["ship_country"],
        )


_UNIT_PRICE = OrderLine._meta.get_field("unit_price")


class LineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64, required=False,
                          widget=_control(forms.TextInput(), autocomplete="off"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_ORDER_LINE_QUANTITY,
                                  required=False, widget=_control(forms.NumberInput(), min="1"))
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=Decimal("0"), max_digits=_UNIT_PRICE.max_digits,
                                    decimal_places=_UNIT_PRICE.decimal_places, required=False,
                                    widget=_control(forms.NumberInput(), step="0.01", min="0"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        sku = (cleaned.get("sku") or "").strip()
        cleaned["sku"] = sku
        if sku and not cleaned.get("quantity") and "quantity" not in self.errors:
            self.add_error("quantity", _("Enter a quantity."))
        if not sku and (cleaned.get("quantity") or cleaned.get("unit_price") is not None):
            self.add_error("sku", _("Enter a SKU."))
        return cleaned

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Live availability: HTMX asks for the typed SKU's stock and fills this row's cell.
        self.fields["sku"].widget.attrs.update({
            "hx-get": reverse("orders:sku_availability"),
            "hx-trigger": "load, keyup changed delay:400ms, change",
            "hx-target": "next .line-availability",
            "hx-sync": "this:replace",
            "data-line-sku": "",
        })

    @property
    def is_filled(self) -> bool:
        return bool(getattr(self, "cleaned_data", {}).get("sku"))


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if not self.filled_forms():
            raise forms.ValidationError(_("Add at least one line."))

    def filled_forms(self) -> list[LineForm]:
        return [form for form in self.forms if form.is_filled]

    def line_inputs(self) -> list[services.LineInput]:
        return [
            services.LineInput(
                sku=form.cleaned_data["sku"], quantity=form.cleaned_data["quantity"],
                unit_price=form.cleaned_data.get("unit_price"),
            )
            for form in self.filled_forms()
        ]


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=1, max_num=MAX_ORDER_LINES, validate_max=True, absolute_max=MAX_ORDER_LINES
)

_LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)$")


def attach_service_error(error: DomainError, *, form: OrderForm, formset: BaseLineFormSet) -> None:
    """Show a service error where it belongs: on a header field, a line field, or the lines."""
    field = error.field or ""
    match = _LINE_FIELD.match(field)
    if match:
        index, name = int(match.group(1)), match.group(2)
        filled = formset.filled_forms()
        if index < len(filled) and name in filled[index].fields:
            filled[index].add_error(name, error.message)
            return
    if field in OrderForm.SERVICE_FIELDS:
        form.add_error(OrderForm.SERVICE_FIELDS[field], error.message)
        return
    message = error.message
    details = error.details if isinstance(error.details, dict) else {}
    short = details.get("short") or []
    if short:
        message = "{} {}".format(
            message,
            "; ".join(
                _("%(sku)s: %(available)s of %(requested)s available") % item for item in short
            ),
        )
    form.add_error(None, message)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)


class BulkActionForm(forms.Form):
    ACTIONS = [("allocate", _("Allocate")), ("hold", _("Hold")), ("cancel", _("Cancel"))]

    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)
    reason = forms.CharField(max_length=255, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any positive integer is a candidate; the services say whether the order exists.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        self.fields["ids"].choices = [(value, value) for value in raw if str(value).isdigit()]

    def clean_ids(self) -> list[int]:
        ids = list(dict.fromkeys(self.cleaned_data["ids"]))
        if len(ids) > MAX_BULK:
            raise forms.ValidationError(_("Select at most %(max)s orders at once.") % {"max": MAX_BULK})
        return ids

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("action") in {"hold", "cancel"} and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give a reason."))
        return cleaned
