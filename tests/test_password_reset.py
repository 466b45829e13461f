"""Password reset requests are rate-limited per client address and per e-mail (core.accounts)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("password_reset")


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.PASSWORD_RESET_RATE_LIMIT = 3


def fresh_ip() -> str:
    """An address no other test (or earlier run: the counters live in Redis) has used."""
    value = uuid.uuid4().int
    return f"10.{value % 250}.{value // 250 % 250}.{value // 62500 % 250 + 1}"


def ask(client, email: str, ip: str):
    return client.post(URL, {"email": email}, REMOTE_ADDR=ip)


def test_reset_requests_over_the_limit_per_address_get_429_and_no_email(client, make_user, mailoutbox):
    user = make_user("Operations", email=f"{uuid.uuid4().hex}@example.com")
    ip = fresh_ip()
    # when one address asks four times (limit 3), for the same and for other e-mails
    answers = [ask(client, email, ip) for email in (user.email, f"{uuid.uuid4().hex}@example.com", user.email)]
    over = ask(client, user.email, ip)
    # then the first three get Django's usual answer, the fourth a clear 429 page and no e-mail
    assert [answer.status_code for answer in answers] == [302, 302, 302]
    assert over.status_code == 429
    assert over["Retry-After"] == "3600"
    assert "Too many password reset requests" in over.content.decode()
    assert len(mailoutbox) == 2


def test_reset_requests_over_the_limit_per_email_get_429_from_any_address(client, make_user, mailoutbox):
    user = make_user("Operations", email=f"{uuid.uuid4().hex}@example.com")
    # when the same e-mail is asked for from four addresses (upper case too)
    answers = [ask(client, email, fresh_ip()) for email in (user.email, user.email.upper(), user.email)]
    over = ask(client, user.email, fresh_ip())
    assert [answer.status_code for answer in answers] == [302, 302, 302]
    assert over.status_code == 429
    assert len(mailoutbox) == 3


def test_the_limit_answers_alike_whether_or_not_the_account_exists(client, make_user):
    known = make_user("Operations", email=f"{uuid.uuid4().hex}@example.com").email
    unknown = f"{uuid.uuid4().hex}@example.com"
    # under the limit both get the same "if an account exists, we sent an e-mail" redirect
    assert ask(client, known, fresh_ip())["Location"] == ask(client, unknown, fresh_ip())["Location"]
    # and over it both get the same 429 page
    for email in (known, unknown):
        for _ in range(3):
            ask(client, email, fresh_ip())
    first, second = ask(client, known, fresh_ip()), ask(client, unknown, fresh_ip())
    assert first.status_code == second.status_code == 429
    for answer, email in ((first, known), (second, unknown)):
        assert "Too many password reset requests" in answer.content.decode()
        assert email not in answer.content.decode()


def test_behind_a_proxy_the_limit_counts_the_address_the_proxy_saw(client, make_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    ip = fresh_ip()
    # a client rotating a forged left-most X-Forwarded-For entry is still one address
    answers = [
        client.post(URL, {"email": f"{uuid.uuid4().hex}@example.com"}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"{fresh_ip()}, {ip}")
        for _ in range(4)
    ]
    assert [answer.status_code for answer in answers] == [302, 302, 302, 429]
