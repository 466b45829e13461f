"""core.inputs: the quantity check and the actor every service records, in one place."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from core.exceptions import ValidationFailed
from core.inputs import check_quantity, user_or_none
from core.limits import MAX_QUANTITY


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, 1.0, "3", True, None])
def test_check_quantity_refuses_what_is_not_a_positive_whole_number_within_the_limit(quantity):
    with pytest.raises(ValidationFailed) as refused:
        check_quantity(quantity, field="lines[2].quantity")

    assert refused.value.field == "lines[2].quantity"


def test_check_quantity_returns_the_quantity_up_to_the_limit():
    assert check_quantity(1) == 1
    assert check_quantity(MAX_QUANTITY) == MAX_QUANTITY


def test_a_signed_change_may_be_negative_but_not_zero_nor_past_the_limit():
    assert check_quantity(-MAX_QUANTITY, allow_negative=True) == -MAX_QUANTITY
    with pytest.raises(ValidationFailed, match="must not be zero"):
        check_quantity(0, allow_negative=True)
    with pytest.raises(ValidationFailed, match=str(MAX_QUANTITY)):
        check_quantity(-MAX_QUANTITY - 1, allow_negative=True)


@pytest.mark.django_db
def test_user_or_none_records_a_saved_user_and_no_one_for_an_anonymous_or_missing_one(django_user_model):
    user = django_user_model.objects.create_user(username="clerk")

    assert user_or_none(user) is user
    assert user_or_none(AnonymousUser()) is None
    assert user_or_none(None) is None
