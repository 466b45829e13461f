"""A browser session idle longer than SESSION_IDLE_TIMEOUT is signed out (core.sessions)."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from core.sessions import LAST_ACTIVITY_KEY

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("core:dashboard")


def stored_session(client) -> dict:
    return Session.objects.get(session_key=client.cookies["sessionid"].value).get_decoded()


def set_last_activity(client, seconds_ago: int) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - seconds_ago
    session.save()


def test_a_session_idle_past_the_timeout_is_sent_to_the_login_page(client, operations_user, settings):
    # given a signed-in user whose last request was longer ago than the idle timeout
    settings.SESSION_IDLE_TIMEOUT = 8 * 3600
    client.force_login(operations_user)
    assert client.get(DASHBOARD).status_code == 200
    set_last_activity(client, 8 * 3600 + 5)
    old_key = client.cookies["sessionid"].value
    # when they open a page
    response = client.get(DASHBOARD)
    # then they are signed out and sent to log in, and the old session is gone
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(session_key=old_key).exists()
    assert client.get(DASHBOARD).status_code == 302


def test_a_session_used_within_the_timeout_stays_signed_in(client, operations_user, settings):
    settings.SESSION_IDLE_TIMEOUT = 8 * 3600
    client.force_login(operations_user)
    set_last_activity(client, 8 * 3600 - 60)
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(DASHBOARD).status_code == 200


def test_the_last_activity_is_written_at_most_once_a_minute(client, operations_user):
    # given a signed-in user active 30 s ago
    client.force_login(operations_user)
    set_last_activity(client, 30)
    written = stored_session(client)[LAST_ACTIVITY_KEY]
    # when they open a page, the session row is not rewritten for it
    assert client.get(DASHBOARD).status_code == 200
    assert stored_session(client)[LAST_ACTIVITY_KEY] == written
    # but after two minutes of quiet the next request moves the mark
    set_last_activity(client, 120)
    client.get(DASHBOARD)
    assert stored_session(client)[LAST_ACTIVITY_KEY] >= int(time.time()) - 5


def test_api_token_clients_are_not_timed_out(api_client, settings):
    settings.SESSION_IDLE_TIMEOUT = 1
    client = api_client("Operations")
    assert client.get("/api/v1/orders/").status_code == 200
