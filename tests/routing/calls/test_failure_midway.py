"""A request that fails half-way: what was recorded stays, and no agent stays
engaged (the claim rolls back with the attempt; with no news, the hold expires).
"""

import datetime as dt

import pytest
from django.test import Client

from routing.calls import call_state, services
from routing.exotel.requests import parse_exotel_request
from routing.models import Attempt
from tests.conftest import TOKEN, agents_not_engaged, at

pytestmark = pytest.mark.django_db

NOON = at(12)


def route(sid, now=NOON):
    request = parse_exotel_request({"CallSid": sid, "From": "09901320691"})
    return services.route_call(request=request, group_slug="support", now=now).numbers


@pytest.fixture
def roster(make_group, make_agent):
    group = make_group("support", hold_seconds=300)
    asha = make_agent("Asha", group, phone="+919900000001")
    ravi = make_agent("Ravi", group, phone="+919900000002")
    return group, asha, ravi


def test_exception_after_claim_rolls_the_claim_back(roster, monkeypatch):
    _, asha, ravi = roster
    assert route("first") == ["+919900000001"]
    insert_attempts = call_state.insert_attempts

    def log_then_fail(*args, **kwargs):
        insert_attempts(*args, **kwargs)
        raise RuntimeError("the process died here")

    monkeypatch.setattr(call_state, "insert_attempts", log_then_fail)

    with pytest.raises(RuntimeError):
        route("second")

    ravi.refresh_from_db()
    assert ravi.engaged_until is None and ravi.engaged_call_sid == ""
    assert not Attempt.objects.filter(call__sid="second").exists()
    # What earlier requests recorded is still there.
    assert list(
        Attempt.objects.filter(call__sid="first").values_list("number", flat=True)
    ) == ["+919900000001"]
    asha.refresh_from_db()
    assert asha.engaged_call_sid == "first"


def test_database_rejecting_the_attempt_rolls_the_claim_back(roster, monkeypatch):
    _, _, ravi = roster
    assert route("first") == ["+919900000001"]
    insert_attempts = call_state.insert_attempts

    def log_at_position_zero(call_id, offers, *, first_position, now):
        # Violates attempt_position_positive: the database refuses the insert.
        return insert_attempts(call_id, offers, first_position=0, now=now)

    monkeypatch.setattr(call_state, "insert_attempts", log_at_position_zero)

    with pytest.raises(services.CallContention):
        route("second")

    ravi.refresh_from_db()
    assert ravi.engaged_until is None
    assert not Attempt.objects.filter(call__sid="second").exists()


def test_failed_request_answers_500_and_frees_everyone(roster, monkeypatch):
    _, _, ravi = roster
    Client().get(f"/exotel/{TOKEN}/dial-whom/support/", {"CallSid": "first"})
    monkeypatch.setattr(call_state, "insert_attempts", lambda *args, **kwargs: 1 / 0)

    response = Client(raise_request_exception=False).get(
        f"/exotel/{TOKEN}/dial-whom/support/", {"CallSid": "second"}
    )

    assert response.status_code == 500  # Exotel asks the Fallback URL
    ravi.refresh_from_db()
    assert ravi.engaged_until is None


def test_every_engagement_has_an_expiry(roster):
    group, asha, ravi = roster

    route("first")

    asha.refresh_from_db()
    assert asha.engaged_until == NOON + dt.timedelta(seconds=group.hold_seconds)
    # No news at all: after the hold time Asha is offered again.
    later = NOON + dt.timedelta(seconds=group.hold_seconds + 1)
    assert route("second", now=NOON + dt.timedelta(seconds=1)) == ["+919900000002"]
    assert route("third", now=later) == ["+919900000001"]


def test_zero_hold_engages_no_one(roster):
    group, asha, _ = roster
    group.hold_seconds = 0
    group.save()

    route("first")

    asha.refresh_from_db()
    assert asha.engaged_until == NOON
    assert agents_not_engaged(NOON).count() == 2
