"""The routing preview: the endpoint's numbers, and a reason for every other member."""

import datetime as dt

import pytest
from django.urls import reverse

from agents.models import (
    AgentHours,
    AgentStatus,
    GroupHours,
    Holiday,
    Membership,
    TimeOff,
)
from pages.preview import preview_route
from routing.calls.services import route_call
from routing.exotel.requests import parse_exotel_request
from tests.conftest import ZONE_QUERIES, at

pytestmark = pytest.mark.django_db

NOON = at(12)  # Monday


def on_break(roster):
    roster["asha"].status = AgentStatus.BREAK
    roster["asha"].status_reason = "lunch"
    roster["asha"].save()


def offline(roster):
    roster["asha"].status = AgentStatus.OFFLINE
    roster["asha"].save()


def outside_hours(roster):
    AgentHours.objects.create(
        agent=roster["asha"], weekday=0, starts=dt.time(14), ends=dt.time(18)
    )


def time_off(roster):
    TimeOff.objects.create(
        agent=roster["asha"],
        starts_at=at(9),
        ends_at=at(17),
        reason="doctor",
    )


def engaged(roster):
    roster["asha"].engaged_until = at(12, 5)
    roster["asha"].engaged_call_sid = "other-call"
    roster["asha"].save()


def inactive(roster):
    roster["asha"].active = False
    roster["asha"].save()


def membership_inactive(roster):
    Membership.objects.filter(agent=roster["asha"]).update(active=False)


def bala_in_tier_2(roster):
    Membership.objects.filter(agent=roster["bala"]).update(priority=2)


def holiday(roster):
    Holiday.objects.create(group=roster["support"], date=NOON.date(), name="Diwali")


def closed_hours(roster):
    GroupHours.objects.create(
        group=roster["support"], weekday=0, starts=dt.time(14), ends=dt.time(18)
    )


@pytest.mark.parametrize(
    "change, rings, asha_reason, bala_reason",
    [
        (None, ["Asha"], None, "not yet their turn in the sequential"),
        (on_break, ["Bala"], "on break: lunch", None),
        (offline, ["Bala"], "offline", None),
        (outside_hours, ["Bala"], "outside their hours", None),
        (
            time_off,
            ["Bala"],
            "on time off until Mon 02 Nov 2026, 17:00:00 (doctor)",
            None,
        ),
        (
            engaged,
            ["Bala"],
            "held by call other-call; released by Mon 02 Nov 2026, 12:05:00",
            None,
        ),
        (inactive, ["Bala"], "agent inactive", None),
        (membership_inactive, ["Bala"], "membership inactive", None),
        (bala_in_tier_2, ["Asha"], None, "lower tier: tier 2 rings after tier 1"),
        (holiday, [], "group closed: holiday (Diwali)", "group closed: holiday"),
        (closed_hours, [], "group closed: outside opening hours", "group closed"),
    ],
    ids=[
        "first-in-order-rings-next-waits",
        "on-break-with-reason",
        "offline",
        "outside-their-hours",
        "on-time-off-until-with-reason",
        "engaged-with-call-and-until",
        "agent-inactive",
        "membership-inactive",
        "lower-tier-waits",
        "holiday-closes-the-group",
        "outside-opening-hours-closes-the-group",
    ],
)
def test_preview_explains_every_member(roster, change, rings, asha_reason, bala_reason):
    if change:
        change(roster)
    preview = preview_route(group=roster["support"], caller="", moment=NOON)
    assert [number.agent_name for number in preview.numbers] == rings
    verdicts = {
        v.membership.agent.name: v for part in preview.groups for v in part.members
    }
    for name, reason in (("Asha", asha_reason), ("Bala", bala_reason)):
        if reason is None:
            assert verdicts[name].offered_at_position == 1
            assert verdicts[name].reasons == []
        else:
            assert verdicts[name].offered_at_position is None
            assert any(r.startswith(reason) for r in verdicts[name].reasons), verdicts[
                name
            ].reasons


def test_preview_follows_overflow_then_fallback_numbers(roster):
    support, sales = roster["support"], roster["sales"]
    support.overflow = sales
    support.batch_size = 4
    support.fallback_numbers = "+919000000001"
    support.save()
    for name in ("asha", "bala", "dev"):
        roster[name].status = AgentStatus.BREAK
        roster[name].save()
    preview = preview_route(group=support, caller="", moment=NOON)
    assert [(n.number, n.group.slug, n.reason) for n in preview.numbers] == [
        (
            str(roster["chitra"].phone),
            "sales",
            "sales: tier 1, sequential (position order)",
        ),
        ("+919000000001", "support", "support: fallback number"),
    ]
    assert [part.group.slug for part in preview.groups] == ["support", "sales"]


def test_preview_batch_respects_max_attempts(roster):
    roster["support"].batch_size = 3
    roster["support"].max_attempts = 1
    roster["support"].save()
    preview = preview_route(group=roster["support"], caller="", moment=NOON)
    assert preview.slots == 1
    assert [n.agent_name for n in preview.numbers] == ["Asha"]


@pytest.mark.parametrize("strategy", ["sequential", "round-robin", "longest-idle"])
def test_preview_answers_what_the_endpoint_answers(roster, make_agent, strategy):
    support = roster["support"]
    support.strategy = strategy
    support.batch_size = 2
    support.overflow = roster["sales"]
    support.save()
    make_agent("Esha", support, priority=2)
    on_break(roster)
    expected = preview_route(group=support, caller="", moment=NOON)
    request = parse_exotel_request({"CallSid": "preview-check"})
    answer = route_call(request=request, group_slug="support", now=NOON)
    assert [n.number for n in expected.numbers] == answer.numbers
    assert len(answer.numbers) == 2


def test_preview_page_shows_the_change_after_a_status_change(supervisor_client, roster):
    page = reverse("supervisor-preview", args=["support"])
    before = supervisor_client.get(page).context["preview"]
    assert [n.agent_name for n in before.numbers] == ["Asha"]
    on_break(roster)
    after = supervisor_client.get(page).context["preview"]
    assert [n.agent_name for n in after.numbers] == ["Bala"]
    assert "on break: lunch" in supervisor_client.get(page).content.decode()


def test_preview_page_takes_a_caller_and_a_moment(supervisor_client, roster):
    outside_hours(roster)
    page = reverse("supervisor-preview", args=["support"])
    response = supervisor_client.get(
        page, {"caller": "09876543210", "moment": "2026-11-02T15:00"}
    )
    preview = response.context["preview"]
    assert preview.caller == "+919876543210"
    assert [n.agent_name for n in preview.numbers] == ["Asha"]
    bad = supervisor_client.get(page, {"caller": "not a number"})
    assert bad.context["preview"] is None
    assert "Not a phone number" in bad.content.decode()


@pytest.mark.parametrize("extra", [0, 20])
def test_preview_queries_do_not_grow_with_the_group(
    roster, make_agent, extra, django_assert_num_queries
):
    for n in range(extra):
        make_agent(f"Extra {n}", roster["support"])
    time_off(roster)
    # timezones, candidates, group open?, members, their time off
    with django_assert_num_queries(4 + ZONE_QUERIES):
        preview = preview_route(group=roster["support"], caller="", moment=NOON)
    assert len(preview.groups[0].members) == 2 + extra
