"""The OpenAPI schema documents every error an operation can answer, with the one Error body, and
states the input limits (core.limits) and codes (core.validators) the API enforces."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.api import MAX_ID
from core.idempotency import HEADER
from core.limits import (
    MAX_NOTES_LENGTH,
    MAX_ORDER_LINE_QUANTITY,
    MAX_ORDER_LINES,
    MAX_PURCHASE_ORDER_LINES,
    MAX_QUANTITY,
)
from core.validators import COUNTRY_CODES, CURRENCY_CODES

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
IDEMPOTENT = {("post", "/api/v1/orders/"), ("post", "/api/v1/orders/{id}/cancel/"), ("post", "/api/v1/stock/adjustments/")}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def component(schema: dict, ref: dict) -> dict:
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def request_schema(schema: dict, method: str, path: str) -> dict:
    content = schema["paths"][path][method]["requestBody"]["content"]
    assert set(content) == {"application/json"}  # JSON only, as the parser
    return component(schema, content["application/json"]["schema"])


def test_every_operation_documents_its_errors_with_the_error_body(schema):
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        expected = {"400", "401", "403", "406", "503"}
        if "{id}" in path or (method == "get" and not path.endswith("}/")):
            expected.add("404")
        if method in ("post", "put", "patch"):
            expected |= {"413", "415"}
        if (method, path) in IDEMPOTENT:
            expected |= {"409", "422"}

        assert expected <= set(responses), (method, path, sorted(responses))
        for code, response in responses.items():
            if code >= "400":
                assert response["content"] == ERROR, (method, path, code)
                assert response["description"], (method, path, code)


def test_the_error_body_is_detail_code_field_details(schema):
    error = schema["components"]["schemas"]["Error"]

    assert set(error["properties"]) == {"detail", "code", "field", "details"}
    assert set(error["required"]) == {"detail", "code"}


def test_idempotent_operations_document_the_key_header_and_only_they_do(schema):
    for method, path, operation in operations(schema):
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}

        assert (HEADER in headers) == ((method, path) in IDEMPOTENT), (method, path)
        if HEADER in headers:
            assert headers[HEADER]["schema"]["maxLength"] == 255
            assert not headers[HEADER].get("required", False)


def test_ids_in_paths_are_bounded_integers(schema):
    for method, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": MAX_ID}, (method, path)


def test_the_schema_states_the_quantity_line_and_text_limits(schema):
    order = request_schema(schema, "post", "/api/v1/orders/")
    order_line = component(schema, order["properties"]["lines"]["items"])
    purchase_order = request_schema(schema, "post", "/api/v1/purchase-orders/")
    po_line = component(schema, purchase_order["properties"]["lines"]["items"])
    adjustment = request_schema(schema, "post", "/api/v1/stock/adjustments/")

    assert order["properties"]["lines"]["maxItems"] == MAX_ORDER_LINES
    assert order_line["properties"]["quantity"]["maximum"] == MAX_ORDER_LINE_QUANTITY
    assert order["properties"]["notes"]["maxLength"] == MAX_NOTES_LENGTH
    assert purchase_order["properties"]["lines"]["maxItems"] == MAX_PURCHASE_ORDER_LINES
    assert purchase_order["properties"]["notes"]["maxLength"] == MAX_NOTES_LENGTH
    assert po_line["properties"]["quantity"] == {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}
    assert adjustment["properties"]["quantity"]["maximum"] == MAX_QUANTITY


def test_amounts_are_strings_whose_pattern_fits_their_column(schema):
    purchase_order = request_schema(schema, "post", "/api/v1/purchase-orders/")
    po_line = component(schema, purchase_order["properties"]["lines"]["items"])
    product = request_schema(schema, "post", "/api/v1/products/")

    unit_cost = next(option for option in po_line["properties"]["unit_cost"].get("oneOf", [po_line["properties"]["unit_cost"]])
                     if option.get("type") == "string")
    assert unit_cost["pattern"] == r"^[0-9]{1,8}(\.[0-9]{1,4})?$"
    assert product["properties"]["list_price"]["pattern"] == r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


def test_currencies_and_countries_are_enums_of_the_iso_codes(schema):
    supplier = request_schema(schema, "post", "/api/v1/suppliers/")

    currency = component(schema, supplier["properties"]["currency"])
    country = component(schema, supplier["properties"]["country"])

    assert tuple(currency["enum"]) == CURRENCY_CODES and "XYZ" not in currency["enum"]
    assert tuple(country["enum"]) == COUNTRY_CODES and "CN" in country["enum"]
