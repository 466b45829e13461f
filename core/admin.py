"""Admin for the infrastructure tables (written by the system only: read-only here) and exchange rates."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest
from django.utils.functional import cached_property

from core.login import AdminLoginForm
from core.models import ExchangeRate, IdempotencyRecord, JobRun, OutboxMessage, WorkerHeartbeat

admin.site.login_form = AdminLoginForm


class EstimatedCountPaginator(Paginator):
    """Admin paginator for tables of millions of rows: an unfiltered changelist takes the row
    count from PostgreSQL's statistics instead of a COUNT(*) over the whole table."""

    ESTIMATE_ABOVE = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] and row[0] > self.ESTIMATE_ABOVE:
                return int(row[0])
        return super().count


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff with the view permission; nobody adds, edits or deletes rows here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "task_name", "created_at", "available_at", "sent_at", "processed_at", "attempts")
    list_filter = ("task_name", ("processed_at", admin.EmptyFieldListFilter), ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("task_name", "dedupe_key")
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "slot", "started_at", "finished_at")
    list_filter = ("job",)
    search_fields = ("job", "slot")
    show_full_result_count = False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("source", "hostname", "created_at")
    list_filter = ("source",)
    search_fields = ("hostname",)
    show_full_result_count = False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "method", "path", "state", "response_status", "created_at")
    list_filter = ("state", "method")
    search_fields = ("key", "path", "user__username")
    list_select_related = ("user",)
    show_full_result_count = False



@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Maintained by admins: add a row with a new `valid_from` rather than editing history."""

    list_display = ("currency", "rate", "valid_from", "created_at")
    list_filter = ("currency",)
    search_fields = ("currency",)
    date_hierarchy = "valid_from"
