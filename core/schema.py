"""The OpenAPI schema's shared parts: the one error body and the error answers every operation documents.

`AutoSchema` (settings.REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to each operation the error
statuses it can answer, each with the `Error` body, so a view declares only what is its own (a
409 with its meaning); a view's own description of a status is kept and given the body. It also
documents what is decided in one place elsewhere: ids in paths (core.api.ID_PATTERN) and the
Idempotency-Key header of views decorated with core.idempotency.idempotent.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from core.api import MAX_ID
from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import MAX_KEY_LENGTH, is_idempotent


class ErrorSerializer(serializers.Serializer):
    """Every error answer of /api/: 4xx and 503."""

    detail = serializers.CharField(help_text=_("What went wrong, in words for a person."))
    code = serializers.CharField(
        help_text=_("A stable reason for programs, e.g. invalid, required, max_value, not_found, "
                    "not_authenticated, permission_denied, conflict, insufficient_stock, database_unavailable.")
    )
    field = serializers.CharField(
        required=False,
        help_text=_("The offending input: a field path such as lines[0].quantity, `body` for a body that is "
                    "not valid JSON, or a header name."),
    )
    details = serializers.JSONField(
        required=False, help_text=_("More about the error: every field's messages, or the short SKUs.")
    )

    class Meta:
        ref_name = "Error"


ERRORS = {
    "400": _("Invalid input: `field` names the offending field, `details` may list every field's messages."),
    "401": _("No valid token: send `Authorization: Token <key>`."),
    "403": _("The user's role does not allow this."),
    "404": _("No such object, or none this user may see."),
    "406": _("The Accept header asks for something other than JSON."),
    "409": _("The first request with this Idempotency-Key is still running; retry shortly."),
    "413": _("The request body is larger than the server accepts."),
    "415": _("The body must be JSON (Content-Type: application/json)."),
    "422": _("The Idempotency-Key was already used for a different request."),
    "503": _("The database is unavailable right now; nothing was saved. Retry after `Retry-After` seconds."),
}
LIST_NOT_FOUND = _("A page number past any list (its offset would exceed 2^63 rows): Invalid page.")

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"^[!-~]([ -~]*[!-~])?$"},
    OpenApiParameter.HEADER,
    description=_(
        "Optional. A retry with the same key replays the first response for 24 h; the same key with "
        "another body gives 422; while the first request still runs, 409. Keys are per user."
    ),
)
ID_PARAMETER = OpenApiParameter(
    "id", {"type": "integer", "minimum": 0, "maximum": MAX_ID}, OpenApiParameter.PATH,
    description=_("The object's id."),
)


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if "{id}" in self.path:
            parameters.append(ID_PARAMETER)
        if self._idempotent():
            parameters.append(IDEMPOTENCY_PARAMETER)
        return parameters

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        statuses = self._error_statuses(operation)
        # A view's own error statuses (a 409 with its meaning) keep their words and get the body.
        statuses.update({code: r["description"] for code, r in responses.items() if code >= "400" and "content" not in r})
        for code, description in statuses.items():
            declared = responses.get(code)
            if declared is not None and "content" in declared:
                continue  # the view documents this status with a body of its own
            responses[code] = self._get_response_for_code(OpenApiResponse(ErrorSerializer, description), code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (isinstance(field, serializers.CharField) and not field.allow_blank and field.trim_whitespace
                and direction == "request" and schema and "pattern" not in schema and not field.read_only):
            # Whitespace is trimmed before "may not be blank" is checked: say so.
            schema = {**schema, "pattern": r"\S"}
        if isinstance(field, serializers.ListSerializer) and schema:
            # DRF checks a nested list's min_length / max_length / allow_empty itself, not
            # through validators, so drf-spectacular does not see them.
            schema = dict(schema)
            if field.min_length is not None:
                schema["minItems"] = field.min_length
            elif not field.allow_empty:
                schema["minItems"] = 1
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema

    def _error_statuses(self, operation: dict) -> dict[str, Any]:
        codes = ["400", "401", "403", "406", "503"]
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            codes.append("404")
        if "requestBody" in operation or self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        if self._idempotent():
            codes += ["409", "422"]
        statuses = {code: ERRORS[code] for code in codes}
        if self.method == "GET" and self._is_list_view():
            statuses["404"] = LIST_NOT_FOUND
        return statuses

    def _idempotent(self) -> bool:
        name = getattr(self.view, "action", None) or self.method.lower()
        return is_idempotent(getattr(self.view, name, None))
