"""The last-known lists: who is on duty per group, as Exotel answer files."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from agents.models import (
    Agent,
    AgentHours,
    AgentSkill,
    AgentStatus,
    Route,
    Skill,
    TimeOff,
)
from routing.outage import last_known
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(make_group, make_agent):
    night = make_group("night", fallback_numbers="+918000000002")
    support = make_group(
        "support", overflow=night, fallback_numbers="+918000000001", hold_seconds=300
    )
    asha = make_agent("Asha", support, phone="+919900000001")
    make_agent("Ravi", support, phone="+919900000002", priority=2)
    make_agent("Meena", support, phone="+919900000003", status=AgentStatus.BREAK)
    off = make_agent("Off", support, phone="+919900000004")
    TimeOff.objects.create(agent=off, starts_at=at(0), ends_at=at(23), reason="leave")
    late = make_agent("Late", support, phone="+919900000005")
    AgentHours.objects.create(
        agent=late, weekday=0, starts=dt.time(20), ends=dt.time(23)
    )
    make_agent("Nina", night, phone="+919900000006")
    make_agent("Engaged", night, phone="+919900000007", engaged_until=at(13))
    return support, night, asha


def test_on_duty_numbers_follow_tiers_then_overflow_then_fallbacks(roster):
    support, _, _ = roster

    numbers = last_known.on_duty_numbers(support, now=at(12))

    assert numbers == [
        "+919900000001",
        "+919900000002",  # tier 2 after tier 1
        "+919900000006",  # overflow group; on break, time off, off shift: left out
        "+919900000007",  # engaged agents too: the list is for when we cannot claim
        "+918000000001",
        "+918000000002",
    ]


def test_max_attempts_caps_the_list(roster):
    support, _, _ = roster
    support.max_attempts = 2

    assert last_known.on_duty_numbers(support, now=at(12)) == [
        "+919900000001",
        "+919900000002",
    ]


def test_export_fallback_writes_one_answer_file_per_group(roster, tmp_path):
    out = StringIO()

    call_command("export_fallback", str(tmp_path / "fallback"), stdout=out)

    files = sorted(path.name for path in (tmp_path / "fallback").iterdir())
    assert files == ["night.txt", "support.txt"]
    body = (tmp_path / "fallback" / "night.txt").read_bytes()
    assert body == b"+919900000006,+919900000007,+918000000002"  # no newline
    assert "Wrote 2 group files" in out.getvalue()


def test_remember_then_recall_pinned_and_routed(roster, settings, tmp_path):
    support, _, _ = roster
    support.exophones = "*"
    support.save()
    settings.DIALWHOM_LAST_KNOWN_DIR = tmp_path
    settings.DIALWHOM_LAST_KNOWN_REFRESH_SECONDS = 0

    last_known.remember(group=support, now=at(12))

    expected = last_known.on_duty_numbers(support, now=at(12))
    assert last_known.recall(group_slug="support", exophone="", digits="") == (
        "support",
        expected,
    )
    assert last_known.recall(group_slug=None, exophone="+918069891522", digits="") == (
        "support",
        expected,
    )
    assert last_known.recall(group_slug="night", exophone="", digits="") == (
        "night",
        [],
    )


@pytest.mark.parametrize(
    "relax_after, expected",
    [
        (None, ["+919900000002", "+918000000001", "+918000000002"]),
        (
            0,
            [
                "+919900000002",
                "+919900000001",
                "+919900000006",
                "+919900000007",
                "+918000000001",
                "+918000000002",
            ],
        ),
    ],
    ids=["strict-only-those-who-meet-the-needs", "preference-those-first"],
)
def test_a_route_keeps_its_own_list_with_its_needs(
    roster, settings, tmp_path, exotel, relax_after, expected
):
    support, _, _ = roster
    Skill.objects.create(name="tamil")
    ravi = Agent.objects.get(name="Ravi")
    AgentSkill.objects.create(agent=ravi, skill_id="tamil", level=4)
    route = Route.objects.create(
        slug="tamil",
        group=support,
        needs="tamil:3",
        relax_after=relax_after,
        exophones="+918069891599",
    )
    settings.DIALWHOM_LAST_KNOWN_DIR = tmp_path
    settings.DIALWHOM_LAST_KNOWN_REFRESH_SECONDS = 0

    last_known.remember(group=support, now=at(12), route=route)

    assert last_known.recall(group_slug="tamil", exophone="", digits="") == (
        "tamil",
        expected,
    )
    # The unpinned routes file knows the route's ExoPhone.
    assert (
        last_known.recall(group_slug=None, exophone="+918069891599", digits="")[0]
        == "tamil"
    )
