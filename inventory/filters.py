"""Filters for the inventory portal lists."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from inventory.models import Product, StockMovement, Warehouse
from inventory.selectors import low_stock


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(label=_("SKU starts with"), method="filter_sku")
    name = django_filters.CharFilter(label=_("Name contains"), field_name="name", lookup_expr="icontains")
    active = django_filters.BooleanFilter(
        label=_("Active"), widget=forms.Select(choices=[("", _("All")), ("true", _("Active")), ("false", _("Inactive"))])
    )
    low_stock = django_filters.BooleanFilter(
        label=_("Low stock"), method="filter_low_stock",
        widget=forms.Select(choices=[("", _("All")), ("true", _("Low stock only"))]),
    )

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_sku(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        # Prefix match on the unique index (text_pattern_ops not needed for a range scan on "C" data).
        return queryset.filter(sku__startswith=value) if value else queryset

    def filter_low_stock(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(Exists(low_stock().filter(product_id=OuterRef("pk"))))


class LedgerFilter(django_filters.FilterSet):
    warehouse = django_filters.ModelChoiceFilter(
        label=_("Warehouse"), queryset=Warehouse.objects.order_by("priority", "code"), to_field_name="code"
    )

    class Meta:
        model = StockMovement
        fields: list[str] = []
