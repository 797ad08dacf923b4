"""The order of one answer (DESIGN 10.4), driven through the endpoint's own
statements with `now`: skills, routes with needs, known callers."""

import datetime as dt

import pytest

from agents.models import (
    Agent,
    AgentGroup,
    AgentSkill,
    AgentStatus,
    Caller,
    Membership,
    Route,
    Skill,
)
from routing.calls.services import route_call
from routing.exotel.requests import parse_exotel_request
from routing.models import Attempt, Call, CallResult
from tests.conftest import at

pytestmark = pytest.mark.django_db

NOON = at(12)
CALLER = "+919812345678"
FALLBACK = "+918000000001"
GOLD_FALLBACK = "+918000000002"
EXOPHONE = "+918047190001"


def skills(agent, **levels):
    for name, level in levels.items():
        Skill.objects.get_or_create(name=name)
        AgentSkill.objects.create(agent=agent, skill_id=name, level=level)


@pytest.fixture
def team(make_group, make_agent):
    """Support (sequential, 3 numbers an answer): Asha tamil 4, Bala hindi 2,
    Chen tamil 2 + hindi 3, Dev nothing; Eve belongs to no group; Gold (the VIP
    group) has Gia."""
    gold = make_group("gold", fallback_numbers=GOLD_FALLBACK)
    support = make_group(
        "support", batch_size=3, fallback_numbers=FALLBACK, vip_group=gold
    )
    people = {
        name: make_agent(name, support) for name in ["Asha", "Bala", "Chen", "Dev"]
    }
    people["Eve"] = make_agent("Eve")
    people["Gia"] = make_agent("Gia", gold)
    skills(people["Asha"], tamil=4)
    skills(people["Bala"], hindi=2)
    skills(people["Chen"], tamil=2, hindi=3)
    return people


def named(numbers):
    names = {str(agent.phone): agent.name for agent in Agent.objects.all()}
    labels = {FALLBACK: "fallback", GOLD_FALLBACK: "gold fallback"}
    return [names.get(number) or labels.get(number, number) for number in numbers]


def ask(sid, slug="support", now=NOON, **params):
    params.setdefault("From", CALLER)
    request = parse_exotel_request({"CallSid": sid, **params})
    return named(route_call(request=request, group_slug=slug, now=now).numbers)


def route(slug="hindi", needs="hindi:3", relax_after=None, **fields):
    return Route.objects.create(
        slug=slug,
        group=AgentGroup.objects.get(slug="support"),
        needs=needs,
        relax_after=relax_after,
        **fields,
    )


def caller(**fields):
    return Caller.objects.create(number=CALLER, **fields)


def on_break(*people):
    Agent.objects.filter(name__in=people).update(status=AgentStatus.BREAK)


# Setups, each a function of the team; the table says what the first answer is.
def no_route(team):
    return "support"


def strict(team):
    route()
    return "hindi"


def preference(team):
    route(relax_after=0)
    return "hindi"


def relax_later(team):
    route(relax_after=60)
    return "hindi"


def no_qualified_strict(team):
    route(needs="hindi:5")
    return "hindi"


def two_needs(team):
    route(needs="tamil:2;hindi:3")
    return "hindi"


def owner_loose_lacking(team):
    route()
    caller(owner=team["Dev"])
    return "hindi"


def owner_not_member(team):
    route()
    caller(owner=team["Eve"])
    return "hindi"


def owner_busy(team):
    route()
    caller(owner=team["Dev"])
    on_break("Dev")
    return "hindi"


def owner_strict(team):
    route()
    caller(owner=team["Dev"], binding="strict")
    return "hindi"


def owner_strict_unavailable(team):
    route()
    caller(owner=team["Dev"], binding="strict")
    on_break("Dev")
    return "hindi"


def blocked(team):
    route()
    caller(blocked=True, owner=team["Dev"])
    return "hindi"


def vip(team):
    caller(vip=True)
    return "support"


def vip_group_without_its_fallback(team):
    caller(vip=True)
    on_break("Asha", "Bala", "Chen", "Dev")
    return "support"


def vip_needs_apply(team):
    route()
    caller(vip=True)
    return "hindi"


def caller_needs_add_up(team):
    route()
    caller(needs="tamil:2")
    return "hindi"


def caller_needs_higher_minimum(team):
    route(needs="hindi:2")
    caller(needs="hindi:3")
    return "hindi"


def caller_needs_nobody_meets(team):
    route()
    caller(needs="tamil:3")
    return "hindi"


def caller_needs_on_a_group(team):
    caller(needs="tamil:3")
    return "support"


def answered_by(agent):
    call = Call.objects.create(
        sid=f"old-{agent.pk}", caller=CALLER, group=agent.memberships.first().group
    )
    Attempt.objects.create(
        call=call,
        agent=agent,
        group=call.group,
        number=str(agent.phone),
        position=1,
        outcome="completed",
        outcome_at=NOON - dt.timedelta(days=1),
    )


def sticky_lacking_strict(team):
    AgentGroup.objects.filter(slug="support").update(sticky_days=7)
    answered_by(team["Dev"])
    route()
    return "hindi"


def sticky_lacking_preference(team):
    AgentGroup.objects.filter(slug="support").update(sticky_days=7)
    answered_by(team["Dev"])
    route(relax_after=0)
    return "hindi"


def sticky_meeting_strict(team):
    AgentGroup.objects.filter(slug="support").update(sticky_days=7)
    answered_by(team["Bala"])
    route(needs="hindi:2")
    return "hindi"


ORDER = [
    (no_route, ["Asha", "Bala", "Chen"]),
    (strict, ["Chen", "fallback"]),
    (preference, ["Chen", "Asha", "Bala"]),
    (relax_later, ["Chen", "fallback"]),
    (no_qualified_strict, ["fallback"]),
    (two_needs, ["Chen", "fallback"]),
    (owner_loose_lacking, ["Dev", "Chen", "fallback"]),
    (owner_not_member, ["Eve", "Chen", "fallback"]),
    (owner_busy, ["Chen", "fallback"]),
    (owner_strict, ["Dev"]),
    (owner_strict_unavailable, []),
    (blocked, []),
    (vip, ["Gia", "Asha", "Bala"]),
    (vip_group_without_its_fallback, ["Gia", "fallback"]),
    (vip_needs_apply, ["Chen", "fallback"]),
    (caller_needs_add_up, ["Chen", "fallback"]),
    (caller_needs_higher_minimum, ["Chen", "fallback"]),
    (caller_needs_nobody_meets, ["fallback"]),
    (caller_needs_on_a_group, ["Asha", "Bala", "Chen"]),
    (sticky_lacking_strict, ["Chen", "fallback"]),
    (sticky_lacking_preference, ["Dev", "Chen", "Asha"]),
    (sticky_meeting_strict, ["Bala", "Chen", "fallback"]),
]


@pytest.mark.parametrize(
    "setup, expected",
    ORDER,
    ids=[setup.__name__.replace("_", "-") for setup, _ in ORDER],
)
def test_order_of_one_answer(team, setup, expected):
    slug = setup(team)
    assert ask("c1", slug) == expected


def test_needs_relax_after_n_seconds_at_the_next_request(team):
    route(relax_after=60)
    assert ask("c1", "hindi") == ["Chen", "fallback"]
    chen = str(team["Chen"].phone)
    later = NOON + dt.timedelta(seconds=59)
    # Still strict: Chen did not answer, nobody else qualifies.
    assert ask(
        "c1", "hindi", now=later, DialWhomNumber=chen, DialCallStatus="no-answer"
    ) == ["fallback"]
    relaxed = NOON + dt.timedelta(seconds=61)
    assert ask(
        "c1", "hindi", now=relaxed, DialWhomNumber=FALLBACK, DialCallStatus="busy"
    ) == ["Asha", "Bala", "Dev"]
    call = Call.objects.get(sid="c1")
    assert (call.route.slug, call.needs, call.relax_after) == ("hindi", "hindi:3", 60)
    assert call.relaxes_at == NOON + dt.timedelta(seconds=60)
    met = dict(Attempt.objects.filter(call=call).values_list("number", "met_needs"))
    assert met[chen] is True
    assert met[str(team["Asha"].phone)] is False


def test_the_route_is_kept_for_the_call_whatever_custom_field_says(team):
    route()
    route("tamil", needs="tamil:3")
    assert ask("c1", None, CustomField="route=hindi") == ["Chen", "fallback"]
    chen = str(team["Chen"].phone)
    assert ask(
        "c1",
        None,
        CustomField="route=tamil",
        DialWhomNumber=chen,
        DialCallStatus="no-answer",
    ) == ["fallback"]
    assert Call.objects.get(sid="c1").route.slug == "hindi"


def test_blocked_caller_is_counted_apart(team):
    blocked(team)
    assert ask("c1", "hindi") == []
    assert ask("c1", "hindi") == []
    call = Call.objects.get(sid="c1")
    assert call.result == CallResult.BLOCKED
    assert not Attempt.objects.exists()
    assert not Agent.objects.filter(engaged_until__isnull=False).exists()


def test_most_specific_wins_over_routes_and_groups(team):
    AgentGroup.objects.filter(slug="support").update(exophones=EXOPHONE)
    route(exophones=EXOPHONE, digits="2")
    route("tamil", needs="tamil:3", exophones="*")
    # ExoPhone and digits: the route; ExoPhone alone: the group; elsewhere: '*'.
    assert ask("c1", None, To="08047190001", digits='"2"') == ["Chen", "fallback"]
    # Each call after the holds of the one before have run out.
    later, latest = NOON + dt.timedelta(minutes=10), NOON + dt.timedelta(minutes=20)
    assert ask("c2", None, later, To="08047190001") == ["Asha", "Bala", "Chen"]
    assert ask("c3", None, latest, To="08047190099") == ["Asha", "fallback"]
    assert [
        (call.sid, call.route.slug if call.route else "")
        for call in Call.objects.order_by("sid")
    ] == [("c1", "hindi"), ("c2", ""), ("c3", "tamil")]


def test_unknown_custom_field_route_is_ignored(team):
    route(exophones=EXOPHONE)
    assert ask("c1", None, To=EXOPHONE, CustomField="a=1;route=nowhere") == [
        "Chen",
        "fallback",
    ]


def test_a_call_exotel_placed_routes_on_call_from(team):
    route(exophones=EXOPHONE)
    # The customer is From; the ExoPhone the campaign called from is CallFrom.
    numbers = ask(
        "c1",
        None,
        From="09812345678",
        CallFrom="08047190001",
        To="09812345678",
        Direction="outbound-api",
    )
    assert numbers == ["Chen", "fallback"]
    call = Call.objects.get(sid="c1")
    assert (call.caller, call.exophone, call.direction) == (
        CALLER,
        EXOPHONE,
        "outbound-api",
    )


def test_owner_of_an_outgoing_call_is_the_customers(team):
    route(exophones=EXOPHONE)
    caller(owner=team["Eve"])
    assert ask(
        "c1", None, From=CALLER, CallFrom=EXOPHONE, Direction="outbound-dial"
    ) == ["Eve", "Chen", "fallback"]


def test_members_without_skills_rows_do_not_meet_needs(team):
    Membership.objects.filter(agent=team["Chen"]).update(active=False)
    route()
    assert ask("c1", "hindi") == ["fallback"]
