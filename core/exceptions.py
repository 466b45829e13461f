"""Domain errors raised by services; views and the API turn them into clear 4xx answers.

`error_body` is the one error shape every JSON answer uses (API errors, rejected input at the
edge, 404/500 for API clients): {"detail": human text, "code": machine code, "field"?: where,
"details"?: more}.
"""

from __future__ import annotations

from typing import Any


def error_body(detail: Any, *, code: str, field: str | None = None, details: Any = None) -> dict[str, Any]:
    """The one JSON error shape: `detail` and `code` always, `field` and `details` when known."""
    body: dict[str, Any] = {"detail": str(detail), "code": code}
    if field:
        body["field"] = field
    if details is not None:
        body["details"] = details
    return body


class DomainError(Exception):
    """A rule of the business was broken. `status` is the HTTP status adapters should use."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return error_body(self.message, code=self.code, field=self.field, details=self.details)


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is well formed but the current state forbids it (illegal transition…)."""

    status = 409
    code = "conflict"


class InsufficientStock(Conflict):
    code = "insufficient_stock"
