"""django-filter FilterSets feeding the purchasing selectors."""

from __future__ import annotations

import django_filters
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Warehouse
from suppliers.models import PurchaseOrder, Supplier
from suppliers.statuses import COMMITTED_STATUSES, PurchaseOrderStatus


class PurchaseOrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Number or SKU"), method="filter_q")
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=PurchaseOrderStatus.choices)
    supplier = django_filters.ModelChoiceFilter(label=_("Supplier"), queryset=Supplier.objects.all())
    warehouse = django_filters.ModelChoiceFilter(label=_("Warehouse"), queryset=Warehouse.objects.all())
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="filter_overdue")

    class Meta:
        model = PurchaseOrder
        fields = ["q", "status", "supplier", "warehouse", "overdue"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(lines__product__sku__iexact=value)).distinct()

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value:
            return queryset
        today = timezone.localdate()
        late = Q(lines__confirmed_date__lt=today) | Q(lines__confirmed_date__isnull=True, lines__expected_date__lt=today)
        return queryset.filter(late, status__in=COMMITTED_STATUSES,
                               lines__quantity__gt=F("lines__quantity_received")).distinct()
