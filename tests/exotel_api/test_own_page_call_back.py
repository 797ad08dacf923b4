"""The agent's own page: their callers to call back, and the button."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents.personal_links import issue_personal_token
from routing.models import Attempt, Call, CallResult, Outcome

pytestmark = pytest.mark.django_db

CALLER = "+919812345678"


@pytest.fixture
def setup(make_group, make_agent):
    group = make_group("support", callback_caller_id="+918047000000")
    asha, ravi = make_agent("Asha", group), make_agent("Ravi", group)
    earlier = timezone.now() - timezone.timedelta(hours=1)
    spoke = Call.objects.create(
        sid="spoke",
        caller=CALLER,
        group=group,
        first_seen_at=earlier,
        result=CallResult.ANSWERED,
        ended_at=earlier,
    )
    Attempt.objects.create(
        call=spoke,
        agent=asha,
        number=str(asha.phone),
        position=1,
        outcome=Outcome.COMPLETED,
        outcome_at=earlier,
    )
    Call.objects.create(
        sid="missed",
        caller=CALLER,
        group=group,
        result=CallResult.NOT_ANSWERED,
        ended_at=timezone.now(),
    )
    return asha, ravi


def link(agent):
    return reverse("personal-page", args=[issue_personal_token(agent=agent)])


def test_the_agent_who_last_spoke_with_them_sees_the_caller(fake_exotel, setup):
    asha, ravi = setup
    assert CALLER in Client().get(link(asha)).content.decode()
    assert 'id="own-callers"' not in Client().get(link(ravi)).content.decode()


def test_the_button_rings_the_agent_first(fake_exotel, setup):
    asha, _ = setup
    page = link(asha)
    response = Client().post(
        page,
        {"action": "call-back", "group": "support", "caller": CALLER},
        follow=True,
    )
    assert f"Calling Asha first, then {CALLER}." in response.content.decode()
    (seen,) = fake_exotel.requests("POST")
    assert seen.form["From"] == str(asha.phone)


def test_an_agent_who_is_not_free_is_told_so(fake_exotel, setup):
    asha, _ = setup
    asha.status = "break"
    asha.save()
    response = Client().post(
        link(asha),
        {"action": "call-back", "group": "support", "caller": CALLER},
        follow=True,
    )
    assert "Asha is not free (on a call, on break or offline)." in (
        response.content.decode()
    )
    assert fake_exotel.requests() == []


def test_off_says_so(settings, setup):
    settings.EXOTEL_API_TOKEN = ""
    asha, _ = setup
    assert "Call back is off." in Client().get(link(asha)).content.decode()
