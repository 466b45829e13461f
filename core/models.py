"""Shared infrastructure tables: the transactional outbox, job-run slots, worker heartbeats."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validators import validate_currency_code


class SectionAccess(models.Model):
    """Holds the global 'may open this portal section' permissions; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("access_orders", _("Can open the Orders section")),
            ("access_inventory", _("Can open the Inventory section")),
            ("access_purchasing", _("Can open the Purchasing section")),
            ("access_logistics", _("Can open the Logistics section")),
            ("access_analytics", _("Can open the Analytics section")),
            ("access_integrations", _("Can open the Integrations section")),
        ]

    def __str__(self) -> str:
        return "section access"


class OutboxMessage(models.Model):
    """A Celery task recorded in the same transaction as the work that asks for it.

    Published after commit by the relay (core.outbox.drain, in every worker), which republishes
    whatever the broker never got or lost (Redis down, or restarted without persistence).
    `processed_at` makes execution exactly-once for the task's database effects: the task claims
    the row in its own transaction.
    """

    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    available_at = models.DateTimeField(_("available at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("publish attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["available_at"],
                name="outbox_unprocessed_idx",
                condition=models.Q(processed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


class JobRun(models.Model):
    """One row per scheduled job and time slot: a unique key makes a slot run at most once,
    however many beat schedulers or redeliveries fire it."""

    job = models.CharField(_("job"), max_length=100)
    slot = models.CharField(_("time slot"), max_length=40)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="jobrun_unique_slot")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot}"


class WorkerHeartbeat(models.Model):
    """Written by a beat-scheduled task; /healthz reports how long ago a worker last ran one."""

    source = models.CharField(_("source"), max_length=100)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    hostname = models.CharField(_("worker host"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.source} {self.created_at:%Y-%m-%d %H:%M:%S}"


class IdempotencyRecord(models.Model):
    """A stored API response for an `Idempotency-Key`, scoped to the calling user.

    Stripe-like: the first response is replayed for 24 h; the same key with another body is
    refused (422); while the first request is still running a second one gets 409.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The PostgreSQL session that claimed the key (pid and start time: pids are reused). If it
    # is gone — the database restarted, the web process died — the claim can be taken over at
    # once instead of after IDEMPOTENCY_STALE_SECONDS.
    owner_pid = models.IntegerField(null=True, blank=True)
    owner_started = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class ExchangeRate(models.Model):
    """How many units of the base currency (settings.BASE_CURRENCY) one unit of `currency` is
    worth from `valid_from` on — until a later rate of the same currency. Used where amounts in
    different currencies are compared (the planner's choice of the cheapest supplier)."""

    currency = models.CharField(
        _("currency"), max_length=3, help_text=_("ISO 4217 code, e.g. USD."),
        validators=[validate_currency_code],
    )
    rate = models.DecimalField(
        _("rate to the base currency"), max_digits=18, decimal_places=8,
        help_text=_("Units of the base currency per one unit of this currency."),
        validators=[MinValueValidator(Decimal("0.00000001"), _("The rate must be above zero."))],
    )
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchangerate_currency_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchangerate_rate_positive"),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="exchangerate_currency_iso"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} ({self.valid_from})"


class Document(models.Model):
    """A rendered document (a PDF), cached under the SHA-256 of what it was rendered from.

    Rendering happens in a Celery worker (core.documents): a row without `content` has been
    requested and is being rendered. Same source, same key: a document is rendered once and
    served as often as asked; a changed source has another key.
    """

    key = models.CharField(_("content hash"), max_length=64, unique=True)
    content_type = models.CharField(_("content type"), max_length=100, default="application/pdf")
    content = models.BinaryField(_("content"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    rendered_at = models.DateTimeField(_("rendered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.key
