"""R19 (hand-made half): hostile values at every entry never reach a 5xx, change no row, and every
/api/ answer is JSON in the one error shape — also under DEBUG, where Django would otherwise
answer with its technical pages.

Hostile values: NUL (raw, percent-encoded, JSON-escaped), bytes that are not UTF-8, lone
surrogates, JSON nested 1,000 deep, 10 MB bodies, 300-character user names, page numbers past
2⁶³. Entries: paths, query strings, header values, form posts (urlencoded and multipart), JSON
bodies, the login forms, the admin, the tracking page, the API lists. Routes are discovered from
the URL configuration, so a new page or API route is covered without touching this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, path
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

import scoms.urls
from core.demo import DEMO_PASSWORD
from core.input_guard import MAX_JSON_DEPTH, InputRejected, parse_json_text
from inventory.api import StockAdjustmentView
from scoms.api_urls import router

pytestmark = pytest.mark.django_db

HUGE_BODY = 10 * 1024 * 1024
DEEP_JSON = "[" * 1000 + "]" * 1000  # 2 KB


# --- helpers --------------------------------------------------------------------------------
def _routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """A concrete path for every route, each parameter filled with 1 (format suffixes left out)."""
    for entry in (resolver or get_resolver()).url_patterns:
        regex = prefix + entry.pattern.regex.pattern.lstrip("^").rstrip("$").replace("\\Z", "")
        if isinstance(entry, URLResolver):
            yield from _routes(entry, regex)
        elif isinstance(entry, URLPattern):
            filled = re.sub(r"\(\?P<\w+>[^)]*\)", "1", regex).replace("\\.", ".").replace("\\-", "-")
            if not any(char in filled for char in "()[]*+?|\\"):
                yield "/" + filled


ROUTES = sorted(set(_routes()))
API_ROUTES = [route for route in ROUTES if route.startswith("/api/")]
LIST_PREFIXES = sorted(prefix for prefix, viewset, _basename in router.registry if hasattr(viewset, "list"))


def database_fingerprint() -> dict[str, tuple[int, int]]:
    """(row count, hash of every row) per table: any insert, update or delete changes it."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        quote = connection.ops.quote_name
        selects = [  # table names from the catalogue, quoted
            f"SELECT %s, count(*), coalesce(sum(hashtext(t::text)::bigint), 0) FROM {quote(table)} t"  # noqa: S608
            for table in tables
        ]
        cursor.execute(" UNION ALL ".join(selects), tables)
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def assert_unchanged(before: dict[str, tuple[int, int]]) -> None:
    after = database_fingerprint()
    assert {table: value for table, value in after.items() if before.get(table) != value} == {}


@pytest.fixture
def unchanged(clients):
    """Call it at the end: asserts no row of any table changed since the fixture was set up
    (after the users and tokens of `clients`)."""
    before = database_fingerprint()
    return lambda: assert_unchanged(before)


@pytest.fixture
def clients(make_user, api_client) -> dict[str, Client]:
    """Anonymous, a logged-in superuser (session) and a token of one — the guard must not care."""
    admin = make_user(username="root", is_superuser=True, is_staff=True)
    session = Client(raise_request_exception=False)
    session.force_login(admin)
    token = api_client(user=admin)
    token.raise_request_exception = False
    return {"anonymous": Client(raise_request_exception=False), "session": session, "token": token}


def assert_refused(response: HttpResponse, where: str, *, status: int = 400, field: str | None = None) -> None:
    """A 4xx (`status`), JSON in the one shape for the API and JSON clients, a page otherwise."""
    assert response.status_code == status, (where, response.status_code, response.content[:300])
    if where.startswith("/api/") or response.get("Content-Type", "").startswith("application/json"):
        assert_error_shape(response, where)
        if field is not None:
            assert response.json()["field"] == field, (where, response.json())
    else:
        assert response["Content-Type"].startswith("text/html"), where
        assert b"Traceback" not in response.content and b"DATABASES" not in response.content


def assert_error_shape(response: HttpResponse, where: str) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), (where, response["Content-Type"])
    body = response.json()
    assert set(body) <= {"detail", "code", "field", "details"}, (where, body)
    assert isinstance(body["detail"], str) and body["detail"], (where, body)
    assert isinstance(body["code"], str) and re.fullmatch(r"[a-z_]+", body["code"]), (where, body)
    return body


def test_route_discovery_finds_the_portal_admin_and_api():
    assert len(ROUTES) > 80
    assert {"/track/1/", "/orders/availability/", "/accounts/login/", "/admin/orders/salesorder/"} <= set(ROUTES)
    assert len(LIST_PREFIXES) >= 7 and len(API_ROUTES) > 15


# --- hostile text on every route -------------------------------------------------------------
# The guard answers before any view or input-reading middleware, so every route gets the same
# 400 with any login or none. The first case of each kind runs as everyone; the rest anonymously
# (the guard does not look at who asks), which keeps the module at a few seconds.
EVERYONE, ANONYMOUS = ("anonymous", "session", "token"), ("anonymous",)
HOSTILE_QUERIES = [
    pytest.param("q=%00", "q", EVERYONE, id="NUL in a query value"),
    pytest.param("%00=1", "query", ANONYMOUS, id="NUL in a query name"),
    pytest.param("sku=a%FFb", "sku", ANONYMOUS, id="query value not UTF-8"),
    pytest.param("sku=%ED%A0%80", "sku", ANONYMOUS, id="query value a lone surrogate"),
]


@pytest.mark.parametrize(("query", "field", "who"), HOSTILE_QUERIES)
def test_hostile_query_strings_are_refused_on_every_route_for_everyone(clients, unchanged, query, field, who):
    for name in who:
        for route in ROUTES:
            assert_refused(clients[name].get(f"{route}?{query}"), f"{name} GET {route}?{query}", field=field)
    unchanged()


@pytest.mark.parametrize("segment", ["%00", "a%00b", "%FF", "%ED%B0%80"])
def test_hostile_path_segments_are_refused_on_every_route(clients, unchanged, segment):
    client = clients["anonymous"]
    for route in ROUTES:
        hostile = route.replace("/1/", f"/{segment}/") if "/1/" in route else f"{route.rstrip('/')}/{segment}/"
        assert_refused(client.get(hostile), f"GET {hostile}", field="path")
    unchanged()


FORM, JSON = "application/x-www-form-urlencoded", "application/json"


@pytest.mark.parametrize(
    ("content_type", "body", "field", "who"),
    [
        pytest.param(FORM, b"username=a%00b&password=x", "username", EVERYONE, id="urlencoded NUL"),
        pytest.param(FORM, b"reason=%C3%28", "reason", ANONYMOUS, id="urlencoded not UTF-8"),
        pytest.param(JSON, b'{"sku": "a\\u0000b"}', "body", EVERYONE, id="JSON escaped NUL"),
        pytest.param(JSON, b'{"sku": "a\x00b"}', "body", ANONYMOUS, id="JSON raw NUL"),
        pytest.param(JSON, b'{"sku": "\\ud800"}', "body", ANONYMOUS, id="JSON lone high surrogate"),
        pytest.param(JSON, b'{"sku": "x\\udc00"}', "body", ANONYMOUS, id="JSON lone low surrogate"),
        pytest.param(JSON, b'{"\\u0000": 1}', "body", ANONYMOUS, id="JSON escaped NUL in a key"),
        pytest.param(JSON, b'{"sku": "\xff"}', "body", ANONYMOUS, id="JSON not UTF-8"),
        pytest.param(JSON, DEEP_JSON.encode(), "body", EVERYONE, id="JSON nested 1000 deep"),
    ],
)
def test_hostile_bodies_are_refused_on_every_route_for_everyone(clients, unchanged, content_type, body, field, who):
    for name in who:
        for route in ROUTES:
            response = clients[name].post(route, data=body, content_type=content_type)
            assert_refused(response, f"{name} POST {route} {body[:30]!r}", field=field)
    unchanged()


def test_hostile_multipart_field_names_and_values_are_refused(clients, unchanged):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = clients["session"]
    for route in ("/orders/new/", "/inventory/adjust/", "/admin/inventory/product/add/", "/accounts/login/"):
        value = client.post(route, {"reason": "a\x00b"})
        name = client.post(route, {"re\x00ason": "x"})
        upload_name = client.post(route, {"fi\x00le": SimpleUploadedFile("rows.csv", b"sku\n")})
        assert_refused(value, route, field="reason")
        assert_refused(name, route, field="form")
        assert_refused(upload_name, route, field="form")
    unchanged()


@pytest.mark.parametrize(
    "header",
    ["HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_IDEMPOTENCY_KEY", "HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT"],
)
def test_a_nul_in_a_header_value_is_refused(unchanged, header):
    client = Client(raise_request_exception=False, **{header: "abc\x00def"})
    for route in ("/", "/accounts/login/", "/track/abc/", "/api/v1/orders/", "/admin/"):
        assert_refused(client.get(route), f"{header} {route}")
    unchanged()


@pytest.mark.parametrize("debug", [False, True])
def test_the_issue_examples_are_clean_4xx_under_debug_too(clients, settings, unchanged, debug):
    # given the three 500s of issue 8, anonymous and logged in, with and without DEBUG
    settings.DEBUG = debug
    for who, client in clients.items():
        for url in ("/track/%00/", "/orders/availability/?sku=%00", "/admin/orders/salesorder/?status__exact=%00"):
            # when
            response = client.get(url)
            # then
            assert_refused(response, f"{who} {url}")
            assert b"Django" not in response.content  # not a technical page
    unchanged()


def test_valid_unicode_and_escapes_pass_the_guard(clients):
    # given text that merely looks odd: accents, an escaped backslash before "u0000", an emoji
    # written as a surrogate pair, a literal percent sign
    client = clients["token"]
    for url in ("/track/caf%C3%A9/", "/track/50%25off/", "/api/v1/products/?search=%C3%A9%E2%82%AC"):
        # when / then: the view answers (404 for an unknown token, 200 for a search)
        assert client.get(url).status_code in (200, 404), url
    body = json.dumps({"sku": "NEW-1", "name": "caf\u00e9 \\u0000 \U0001f600", "unit": "pcs"})
    created = client.post("/api/v1/products/", data=body, content_type="application/json")
    assert created.status_code == 201, created.json()
    assert created.json()["name"] == "caf\u00e9 \\u0000 \U0001f600"


# --- JSON depth --------------------------------------------------------------------------------
def test_json_deeper_than_the_limit_is_refused_on_every_api_post_under_debug_too(clients, settings, unchanged):
    settings.DEBUG = True
    client = clients["token"]
    for route in API_ROUTES:
        response = client.post(route, data=DEEP_JSON, content_type="application/json")
        body = assert_error_shape(response, route)
        assert (response.status_code, body["code"], body["field"]) == (400, "too_deep", "body"), route
        assert str(MAX_JSON_DEPTH) in body["detail"]
    unchanged()


def _refusal(text: str) -> str | None:
    """The code parse_json_text refuses `text` with (None when it parses)."""
    try:
        parse_json_text(text)
    except InputRejected as rejected:
        return rejected.code
    return None


def test_json_at_the_depth_limit_is_parsed_and_one_level_more_is_not():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    over = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    assert _refusal(at_limit) is None and _refusal(over) == "too_deep"
    assert _refusal('{"a": ' * 1_000 + "1" + "}" * 1_000) == "too_deep"
    assert _refusal("[" * 100_000 + "]" * 100_000) == "too_deep"  # past Python's own recursion limit
    assert _refusal(json.dumps({"text": "[" * 10_000})) is None  # brackets inside a string
    assert _refusal("[" + "[]," * 100_000 + "[]]") is None  # long but flat


def test_json_escapes_are_judged_by_what_they_decode_to():
    assert _refusal(r'{"a": "\\u0000"}') is None  # an escaped backslash, then text
    assert _refusal(r'{"a": "\\\u0000"}') == "invalid_text"  # an escaped backslash, then a real escape
    assert _refusal(r'{"a": "\ud83d\ude00"}') is None  # a surrogate pair (😀)
    assert _refusal(r'{"a": "\ud83d x\ude00"}') == "invalid_text"  # the pair split apart
    assert _refusal(r'{"a": "\ude00\ud83d"}') == "invalid_text"  # in the wrong order
    assert _refusal(r'{"\u0000": 1}') == "invalid_text"  # in a key


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


# Documents with strings full of brackets, quotes and backslashes, nested up to ~12 levels.
_TRICKY_TEXT = st.text(alphabet='[]{}"\\ ab\u00e9', max_size=8)
_DOCUMENTS = st.recursive(
    st.none() | st.integers() | _TRICKY_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TRICKY_TEXT, children, max_size=3),
    max_leaves=40,
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(document=_DOCUMENTS, ascii_only=st.booleans())
def test_any_valid_document_within_the_depth_limit_parses_to_itself(document, ascii_only):
    text = json.dumps(document, ensure_ascii=ascii_only)

    assert parse_json_text(text) == document


@hypothesis_settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12))
def test_json_strings_are_refused_exactly_for_nul_and_lone_surrogates(value):
    # json.dumps escapes every non-ASCII character, a lone surrogate as \udXXX and NUL as \u0000
    text = json.dumps({"key": value, value: [value]})

    bad = "\x00" in value or any(0xD800 <= ord(char) <= 0xDFFF for char in value)
    assert (_refusal(text) == "invalid_text") == bad


def test_the_api_parser_refuses_deep_json_without_the_middleware(api_client):
    # given a DRF view called directly (no middleware), as unit tests and other callers do
    view = StockAdjustmentView.as_view()
    user = api_client("Warehouse").user
    request = APIRequestFactory().post("/api/v1/stock/adjustments/", data=DEEP_JSON, content_type="application/json")
    request.user = user
    from rest_framework.test import force_authenticate

    force_authenticate(request, user=user)
    # when
    response = view(request)
    # then
    assert response.status_code == 400
    assert (response.data["code"], response.data["field"]) == ("too_deep", "body")


# --- body size ---------------------------------------------------------------------------------
@pytest.mark.parametrize("debug", [False, True])
def test_a_10_mb_body_is_413_json_for_the_api_and_a_page_for_people(clients, settings, unchanged, debug):
    settings.DEBUG = debug
    client = clients["session"]
    big_json = json.dumps({"name": "x" * HUGE_BODY})
    api = client.post("/api/v1/products/", data=big_json, content_type="application/json")
    form = client.post("/orders/new/", data=b"notes=" + b"x" * HUGE_BODY, content_type="application/x-www-form-urlencoded")
    multipart = client.post("/inventory/adjust/", {"reason": "x" * HUGE_BODY})
    webhook_like = client.post("/integrations/", data=big_json, content_type="application/json")

    assert_refused(api, "/api/v1/products/", status=413, field="body")
    assert api.json()["code"] == "too_large"
    assert_refused(form, "/orders/new/", status=413)
    assert_refused(multipart, "/inventory/adjust/", status=413)
    assert_refused(webhook_like, "/integrations/", status=413)
    unchanged()


# --- login ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [151, 256, 300, 5000])
@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_an_over_long_username_is_a_form_error_and_records_nothing(client, make_user, unchanged, url, length):
    response = client.post(url, {"username": "x" * length, "password": "whatever-1"})

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    unchanged()  # no failed attempt recorded, no session


def test_axes_records_at_most_its_column_for_any_other_caller_of_authenticate(db):
    # given a caller of authenticate() that does not go through the login forms
    request = RequestFactory().post("/elsewhere/", {"username": "y" * 300})
    # when
    user = authenticate(request, username="y" * 300, password="wrong")
    # then: a failed attempt is recorded, cut to the column, instead of a database error
    assert user is None
    assert [len(name) for name in AccessAttempt.objects.values_list("username", flat=True)] == [255]


def test_a_username_within_the_limit_still_logs_in(client, make_user):
    make_user("Operations", username="o" * 150)

    response = client.post("/accounts/login/", {"username": "o" * 150, "password": DEMO_PASSWORD})

    assert response.status_code == 302


# --- pagination ----------------------------------------------------------------------------------
HUGE_PAGES = ["9223372036854775807", "9223372036854775808", "99999999999999999999", "1" + "0" * 5000]
ROLES = ["Operations", "Warehouse", "Purchasing", "Analyst", "Supplier"]


@pytest.mark.parametrize("role", [*ROLES, "superuser"])
def test_a_page_past_bigint_is_a_json_404_on_every_api_list_for_every_role(api_client, make_user, role):
    client = api_client(user=make_user(is_superuser=True)) if role == "superuser" else api_client(role)
    client.raise_request_exception = False
    before, statuses = database_fingerprint(), set()
    for prefix in LIST_PREFIXES:
        for page in HUGE_PAGES:
            response = client.get(f"/api/v1/{prefix}/?page={page}")
            body = assert_error_shape(response, prefix)
            # 404 "Invalid page." where the role may list, else its 403 — never a 5xx
            assert (response.status_code, body["code"]) in {(404, "not_found"), (403, "permission_denied")}, (
                role, prefix, page, body)
            statuses.add(response.status_code)
    assert 404 in statuses  # every role may list something: the page check was reached
    assert_unchanged(before)


def test_a_page_that_is_not_a_positive_whole_number_is_400_naming_page(api_client):
    client = api_client("Analyst")
    for page in ("abc", "0", "-1", "1.5", "1e3", "%20"):
        response = client.get(f"/api/v1/products/?page={page}")
        assert (response.status_code, response.json()["field"]) == (400, "page"), page
    assert client.get("/api/v1/products/?page_size=99999999999999999999999").status_code == 200


@pytest.mark.parametrize("url", [
    "/orders/?page=99999999999999999999&per_page=99999999999999999999",
    "/purchasing/orders/?page=9223372036854775808",
    "/inventory/low-stock/?page=-9223372036854775809",
    "/admin/orders/salesorder/?p=9223372036854775807",
    "/admin/inventory/stockmovement/?p=99999999999999999999",
    "/inventory/products/?after=" + "A" * 2000,
])
def test_portal_and_admin_pages_past_bigint_are_not_errors(clients, url):
    assert clients["session"].get(url).status_code < 400, url


# --- every /api/ answer is JSON ----------------------------------------------------------------
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_urls_are_json_404_without_the_url_list(clients, settings, debug):
    settings.DEBUG = debug
    for who, client in clients.items():
        for method in ("get", "post", "put", "delete"):
            for url in ("/api/v1/orders/abc/", "/api/v1/nope/", "/api/v1/orders", "/api/", "/api/v2/orders/"):
                send = {"data": "{}", "content_type": "application/json"} if method != "get" else {}
                response = getattr(client, method)(url, **send)
                body = assert_error_shape(response, f"{who} {method} {url}")
                assert (response.status_code, body["code"]) == (404, "not_found"), (who, method, url)
                assert b"urlpatterns" not in response.content and b"URLconf" not in response.content


def test_api_errors_from_drf_carry_a_code(clients):
    anonymous, token = clients["anonymous"], clients["token"]
    cases = [
        (anonymous.get("/api/v1/orders/"), 401, "not_authenticated"),
        (token.delete("/api/v1/orders/"), 405, "method_not_allowed"),
        (token.post("/api/v1/orders/", data="a=b", content_type="application/x-www-form-urlencoded"), 415,
         "unsupported_media_type"),
        (token.get("/api/v1/orders/", HTTP_ACCEPT="text/html"), 406, "not_acceptable"),
        (token.get("/api/v1/orders/999999/"), 404, "not_found"),
        (token.post("/api/v1/orders/", data="{", content_type="application/json"), 400, "invalid"),
    ]
    for response, status, code in cases:
        body = assert_error_shape(response, code)
        assert (response.status_code, body["code"]) == (status, code)
    assert anonymous.get("/api/v1/orders/")["WWW-Authenticate"].startswith("Token")


def test_a_session_post_to_the_api_without_csrf_is_a_json_403(make_user):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(make_user(is_superuser=True))

    response = client.post("/api/v1/products/", data="{}", content_type="application/json")

    assert response.status_code == 403
    assert assert_error_shape(response, "csrf")["code"] == "permission_denied"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unexpected bug, secret=do-not-show")


class BoomView(APIView):
    permission_classes: list = []

    def get(self, request: Any) -> Any:
        raise RuntimeError("an unexpected bug, secret=do-not-show")


urlpatterns = [
    path("api/v1/boom/", boom),
    path("api/v1/drf-boom/", BoomView.as_view()),
    path("portal-boom/", boom),
    *scoms.urls.urlpatterns,
]
handler400, handler403 = scoms.urls.handler400, scoms.urls.handler403
handler404, handler500 = scoms.urls.handler404, scoms.urls.handler500


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_under_api_is_a_json_500_without_a_traceback(settings, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    for url in ("/api/v1/boom/", "/api/v1/drf-boom/"):
        response = client.get(url)
        body = assert_error_shape(response, url)
        assert (response.status_code, body["code"]) == (500, "server_error")
        assert b"secret" not in response.content and b"Traceback" not in response.content
    if not debug:  # a person gets the page; a JSON client asking for JSON gets JSON
        assert client.get("/portal-boom/")["Content-Type"].startswith("text/html")
        assert assert_error_shape(client.get("/portal-boom/", HTTP_ACCEPT="application/json"), "portal")
