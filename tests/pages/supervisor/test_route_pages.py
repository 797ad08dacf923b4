"""What people see of routes and needs: the call timeline, coverage per route,
reports per route (DESIGN 10.4)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import AgentHours, AgentSkill, Caller, Route, Skill
from pages.reports.routes import route_report
from routing.calls.services import route_call
from routing.exotel.requests import parse_exotel_request
from routing.models import Call

pytestmark = pytest.mark.django_db


@pytest.fixture
def tamil(roster):
    Skill.objects.create(name="tamil")
    AgentSkill.objects.create(agent=roster["asha"], skill_id="tamil", level=4)
    return Route.objects.create(
        slug="tamil", group=roster["support"], needs="tamil:3", relax_after=30
    )


def ask(sid, now, **params):
    request = parse_exotel_request({"CallSid": sid, "From": "09812345678", **params})
    return route_call(request=request, group_slug="tamil", now=now).numbers


def test_timeline_shows_route_needs_and_when_they_relaxed(admin_client, roster, tamil):
    Caller.objects.create(number="+919812345678", vip=True, notes="gold customer")
    now = timezone.now()
    ask("c1", now)
    call = Call.objects.get(sid="c1")
    page = admin_client.get(reverse("supervisor-call-timeline", args=[call.pk]))
    text = page.content.decode()
    assert "Route tamil." in text
    assert "Needs Tamil, level 3 or more; only agents who meet them for 30 s" in text
    assert "relaxed at" in text
    assert "Known caller (VIP): gold customer" in text


def test_report_per_route(roster, tamil):
    now = timezone.now()
    asha, bala = (str(roster[name].phone) for name in ("asha", "bala"))
    assert ask("meets", now) == [asha]
    ask("meets", now, DialWhomNumber=asha, DialCallStatus="completed")
    later = now + dt.timedelta(minutes=10)
    AgentSkill.objects.all().delete()
    assert ask("relaxed", later) == []
    relaxed = later + dt.timedelta(seconds=31)
    assert ask("relaxed", relaxed, DialWhomNumber="", DialCallStatus="") in (
        [asha],
        [bala],
    )
    numbers = ask("relaxed", relaxed)
    ask("relaxed", relaxed, DialWhomNumber=numbers[0], DialCallStatus="completed")
    Caller.objects.create(number="+919800000000", blocked=True)
    request = parse_exotel_request({"CallSid": "blocked", "From": "09800000000"})
    route_call(request=request, group_slug="tamil", now=relaxed)
    today = timezone.localtime(now, timezone=dt.UTC).date()
    [row] = [
        row
        for row in route_report(
            group=roster["support"],
            start=today - dt.timedelta(days=1),
            end=today + dt.timedelta(days=1),
        )
        if row.route == "tamil"
    ]
    assert (
        row.calls,
        row.answered,
        row.answered_meeting_needs,
        row.answered_after_relaxing,
        row.blocked,
    ) == (3, 2, 1, 1, 1)


def test_coverage_gives_gaps_per_route(admin_client, roster, tamil):
    for weekday in range(7):
        AgentHours.objects.create(
            agent=roster["asha"],
            weekday=weekday,
            starts=dt.time(9),
            ends=dt.time(18),
        )
    page = admin_client.get(reverse("supervisor-coverage"))
    text = page.content.decode()
    assert "Route tamil (Support): needs Tamil, level 3 or more" in text
    assert "nobody who meets the needs" in text
    # Bala (no Tamil) is always on: the group itself has no gap.
    assert 'data-group="support"><span class="badge ok">covered' in text
