"""Domain errors raised by services; views and the API turn them into clear 4xx answers."""

from __future__ import annotations

from typing import Any


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
        body: dict[str, Any] = {"detail": self.message, "code": self.code}
        if self.field:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return body


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
