"""Log-in, log-out, lockout after repeated failures, session rotation, password change, CSRF."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from core.demo import DEMO_PASSWORD

LOGIN_URL = "/accounts/login/"
ATTACKER_IP = "203.0.113.7"
OTHER_IP = "198.51.100.23"


def post_login(client: Client, username: str, password: str, *, ip: str = "192.0.2.1"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_page_renders_the_form(client, db):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_login_with_the_right_password_opens_the_dashboard(client, operations_user):
    response = post_login(client, "operations", DEMO_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard")
    assert client.get(reverse("core:dashboard")).status_code == 200


def test_login_follows_next_to_the_page_asked_for(client, operations_user):
    response = client.post(
        f"{LOGIN_URL}?next=/orders/", {"username": "operations", "password": DEMO_PASSWORD, "next": "/orders/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/orders/"


def test_login_with_a_wrong_password_shows_an_error(client, operations_user):
    response = post_login(client, "operations", "wrong-password")

    assert response.status_code == 200
    assert "didn't match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_by_post_ends_the_session(client, operations_user):
    client.force_login(operations_user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("core:dashboard")).status_code == 302


def test_logout_by_get_is_not_allowed(client, operations_user):
    client.force_login(operations_user)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert client.get(reverse("core:dashboard")).status_code == 200


def test_repeated_bad_passwords_lock_out_that_user_from_that_ip_only(client, operations_user, make_user):
    make_user("Warehouse", username="warehouse")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "operations", "wrong-password", ip=ATTACKER_IP)

    locked = post_login(client, "operations", DEMO_PASSWORD, ip=ATTACKER_IP)
    same_user_other_ip = post_login(Client(), "operations", DEMO_PASSWORD, ip=OTHER_IP)
    other_user_same_ip = post_login(Client(), "warehouse", DEMO_PASSWORD, ip=ATTACKER_IP)

    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert same_user_other_ip.status_code == 302
    assert other_user_same_ip.status_code == 302


def test_fewer_bad_passwords_than_the_limit_do_not_lock_out(client, operations_user):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "operations", "wrong-password", ip=ATTACKER_IP)

    response = post_login(client, "operations", DEMO_PASSWORD, ip=ATTACKER_IP)

    assert response.status_code == 302


def test_session_key_rotates_on_login(client, operations_user):
    anonymous_session = client.session
    anonymous_session["seen_login_page"] = True
    anonymous_session.save()
    key_before = anonymous_session.session_key

    post_login(client, "operations", DEMO_PASSWORD)

    key_after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key_after != key_before
    assert not Session.objects.filter(session_key=key_before).exists()


def test_password_change_ends_the_users_other_sessions(operations_user):
    laptop, phone = Client(), Client()
    post_login(laptop, "operations", DEMO_PASSWORD)
    post_login(phone, "operations", DEMO_PASSWORD)
    assert phone.get(reverse("core:dashboard")).status_code == 200

    response = laptop.post(
        reverse("password_change"),
        {"old_password": DEMO_PASSWORD, "new_password1": "a-new-long-pass-456", "new_password2": "a-new-long-pass-456"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert laptop.get(reverse("core:dashboard")).status_code == 200
    assert phone.get(reverse("core:dashboard")).status_code == 302


def test_password_change_page_renders_for_a_logged_in_user(client, operations_user):
    client.force_login(operations_user)

    response = client.get(reverse("password_change"))

    assert response.status_code == 200
    assert 'name="new_password1"' in response.content.decode()


@pytest.mark.parametrize("url_name", ["logout", "password_change"])
def test_state_changing_auth_views_reject_post_without_csrf_token(operations_user, url_name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operations_user)

    response = client.post(reverse(url_name), {})

    assert response.status_code == 403
    assert client.get(reverse("core:dashboard")).status_code == 200  # still logged in


def test_login_rejects_post_without_csrf_token(operations_user):
    client = Client(enforce_csrf_checks=True)

    response = post_login(client, "operations", DEMO_PASSWORD)

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_behind_a_proxy_lockout_counts_the_address_the_proxy_saw_not_a_forged_one(
    client, operations_user, settings
):
    # Given one trusted reverse proxy (it appends the peer address to X-Forwarded-For)
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"

    def via_proxy(c: Client, password: str, *, real_ip: str, forged: str | None = None):
        forwarded = f"{forged}, {real_ip}" if forged else real_ip
        return c.post(LOGIN_URL, {"username": "operations", "password": password},
                      REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded)

    # When an attacker forges a new left-most address on every attempt
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        via_proxy(client, "wrong-password", real_ip=ATTACKER_IP, forged=f"192.0.2.{attempt + 1}")

    # Then the attacker is locked out all the same, and the same user elsewhere is not
    assert via_proxy(Client(), DEMO_PASSWORD, real_ip=ATTACKER_IP, forged="192.0.2.200").status_code == 429
    assert via_proxy(Client(), DEMO_PASSWORD, real_ip=OTHER_IP).status_code == 302
