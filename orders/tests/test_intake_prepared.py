"""orders.intake with psycopg prepared statements (DATABASES OPTIONS prepare_threshold set)."""

from __future__ import annotations

import pytest
from django.db import connection

from orders.tests.factories import ChannelFactory, CustomerFactory, place
from orders.tests.test_intake import placed_and_rolled_back, stocked  # noqa: F401 — fixture


@pytest.fixture
def prepared():
    """Prepare every statement of server-side-binding cursors at once, as OPTIONS would."""
    connection.ensure_connection()
    raw = connection.connection
    raw.prepare_threshold = 0
    yield raw
    raw.prepare_threshold = None


@pytest.mark.django_db
def test_prepared_statements_write_what_plain_statements_write(stocked, prepared):  # noqa: F811
    ChannelFactory(code="web")
    CustomerFactory(name="Ada Li", email="ada@example.com")
    lines = (("TEA", 5), ("CUP", 2))
    # (psycopg forgets its prepared statements at any ROLLBACK, savepoints included)
    for number in range(2):
        assert place(("CUP", 1), external_ref=f"PREP-{number}").created
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 2  # the read and the write, prepared once
    with_prepared = [placed_and_rolled_back(*lines) for _ in range(3)]
    prepared.prepare_threshold = None
    plain = placed_and_rolled_back(*lines)
    assert len(plain["allocations"]) == 3  # the comparison is not vacuous
    assert with_prepared == [plain] * 3
