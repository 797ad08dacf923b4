"""One status service for every interface: history, breaks with an end, engagements."""

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from agents.importers import parse_agents_csv
from agents.models import Agent, AgentStatus, StatusChange, StatusVia
from agents.roster_files import export_agents, import_agents
from agents.status import break_end, end_due_breaks, set_agent_status

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def history(agent) -> list[tuple]:
    return list(
        agent.status_changes.order_by("changed_at", "pk").values_list(
            "old_status", "new_status", "reason", "until", "via", "changed_at"
        )
    )


def set_one(agent, status, *, reason="", until=None, via=StatusVia.BOARD, now=NOW):
    return set_agent_status(
        agents=Agent.objects.filter(pk=agent.pk),
        status=status,
        reason=reason,
        until=until,
        via=via,
        now=now,
    )


@pytest.mark.parametrize(
    ("before", "request_", "changed"),
    [
        pytest.param(
            ("available", "", None),
            ("break", "lunch", None),
            True,
            id="break-is-a-change",
        ),
        pytest.param(
            ("break", "lunch", None),
            ("break", "lunch", None),
            False,
            id="same-break-writes-nothing",
        ),
        pytest.param(
            ("break", "lunch", None),
            ("break", "tea", None),
            True,
            id="new-reason-is-a-change",
        ),
        pytest.param(
            ("break", "lunch", None),
            ("break", "lunch", NOW + 15 * MINUTE),
            True,
            id="an-end-added-is-a-change",
        ),
        pytest.param(
            ("available", "", None),
            ("available", "ignored", None),
            False,
            id="available-again-writes-nothing",
        ),
        pytest.param(
            ("offline", "training", None),
            ("available", "back", None),
            True,
            id="available-clears-the-reason",
        ),
        pytest.param(
            ("offline", "", None),
            ("offline", "", NOW + MINUTE),
            False,
            id="an-end-only-for-breaks",
        ),
    ],
)
def test_a_request_writes_history_only_when_something_changes(
    make_agent, before, request_, changed
):
    status, reason, until = before
    agent = make_agent(
        status=status, status_reason=reason, status_until=until, missed_in_row=2
    )
    new_status, new_reason, new_until = request_

    outcome = set_one(agent, new_status, reason=new_reason, until=new_until)

    agent.refresh_from_db()
    assert (outcome.changed, outcome.unchanged) == ((1, 0) if changed else (0, 1))
    expected_reason = "" if new_status == "available" else new_reason
    expected_until = new_until if new_status == "break" else None
    if changed:
        assert history(agent) == [
            (status, new_status, expected_reason, expected_until, "board", NOW)
        ]
        assert (agent.status, agent.status_reason, agent.status_until) == (
            new_status,
            expected_reason,
            expected_until,
        )
        assert (agent.status_changed_at, agent.missed_in_row) == (NOW, 0)
    else:
        assert history(agent) == []
        assert agent.missed_in_row == 2  # nothing written at all


def test_inactive_agents_are_refused_and_the_others_changed(make_agent):
    active = make_agent(name="Asha")
    inactive = make_agent(name="Bala", active=False)

    outcome = set_agent_status(
        agents=Agent.objects.all(), status="offline", via=StatusVia.ADMIN, now=NOW
    )

    assert (outcome.changed, outcome.unchanged, outcome.inactive) == (1, 0, 1)
    inactive.refresh_from_db()
    assert inactive.status == "available"
    assert history(inactive) == []
    assert len(history(active)) == 1


def test_a_status_change_never_undoes_an_engagement(make_agent):
    held_until = NOW + 5 * MINUTE
    agent = make_agent(engaged_until=held_until, engaged_call_sid="call-1")

    set_one(agent, "break", reason="tea")

    agent.refresh_from_db()
    assert (agent.status, agent.engaged_until, agent.engaged_call_sid) == (
        "break",
        held_until,
        "call-1",
    )


def test_the_user_is_kept_with_the_change(make_agent):
    user = get_user_model().objects.create_user("sunita", is_staff=True)
    agent = make_agent()

    set_agent_status(
        agents=Agent.objects.filter(pk=agent.pk),
        status="break",
        via=StatusVia.ADMIN,
        user=user,
        now=NOW,
    )

    change = StatusChange.objects.get(agent=agent)
    assert (change.via, change.user) == ("admin", user)


def test_a_queryset_with_joins_and_distinct_is_accepted(make_agent, make_group):
    group = make_group()
    make_agent(groups=[group])
    make_agent(groups=[group])
    agents = Agent.objects.filter(memberships__group=group).distinct()

    outcome = set_agent_status(
        agents=agents, status="break", via=StatusVia.ADMIN, now=NOW
    )

    assert outcome.changed == 2


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        pytest.param(None, None, id="until-changed"),
        pytest.param(1, NOW + MINUTE, id="one-minute"),
        pytest.param(240, NOW + 240 * MINUTE, id="four-hours-at-most"),
    ],
)
def test_break_end(minutes, expected):
    assert break_end(minutes, now=NOW) == expected


@pytest.mark.parametrize("minutes", [0, 241, -5], ids=["zero", "over-240", "negative"])
def test_break_end_rejects_lengths_out_of_range(minutes):
    with pytest.raises(ValueError, match="1 to 240"):
        break_end(minutes, now=NOW)


# Break expiry: (status, reason, until relative to now) -> ended?
@pytest.mark.parametrize(
    ("status", "until", "ends"),
    [
        pytest.param("break", -MINUTE, True, id="break-past-its-end-ends"),
        pytest.param("break", dt.timedelta(0), True, id="break-ending-now-ends"),
        pytest.param("break", MINUTE, False, id="break-before-its-end-goes-on"),
        pytest.param("break", None, False, id="break-until-changed-goes-on"),
        pytest.param(
            "offline", -MINUTE, False, id="offline-with-a-stale-end-untouched"
        ),
    ],
)
def test_end_due_breaks(make_agent, status, until, ends):
    end = NOW + until if until is not None else None
    agent = make_agent(
        status=status,
        status_reason="lunch",
        status_until=end,
        engaged_until=NOW + MINUTE,
        engaged_call_sid="call-1",
        missed_in_row=1,
    )

    assert end_due_breaks(now=NOW) == (1 if ends else 0)

    agent.refresh_from_db()
    if ends:
        assert (agent.status, agent.status_reason, agent.status_until) == (
            "available",
            "",
            None,
        )
        # Available since the break's end, whenever this ran.
        assert agent.status_changed_at == end
        assert history(agent) == [("break", "available", "", None, "break-ended", end)]
    else:
        assert (agent.status, agent.status_until) == (status, end)
        assert history(agent) == []
    assert (agent.engaged_call_sid, agent.missed_in_row) == ("call-1", 1)


def test_end_due_breaks_twice_records_one_end(make_agent):
    agent = make_agent(status="break", status_until=NOW - MINUTE)
    end_due_breaks(now=NOW)
    end_due_breaks(now=NOW + MINUTE)
    assert len(history(agent)) == 1


def test_a_request_after_a_break_ended_shows_both_changes(make_agent):
    agent = make_agent(status="break", status_until=NOW - 10 * MINUTE)

    set_one(agent, "offline", via=StatusVia.KEYPAD)

    assert [row[:2] + row[4:] for row in history(agent)] == [
        ("break", "available", "break-ended", NOW - 10 * MINUTE),
        ("available", "offline", "keypad", NOW),
    ]


def test_end_breaks_command(make_agent):
    agent = make_agent(status="break", status_until=NOW - MINUTE)
    out = io.StringIO()

    call_command("end_breaks", "--dry-run", stdout=out)
    agent.refresh_from_db()
    assert agent.status == "break"
    assert "1 break(s) would end" in out.getvalue()

    call_command("end_breaks", stdout=out)
    agent.refresh_from_db()
    assert agent.status == "available"
    assert "1 break(s) ended" in out.getvalue()


AGENTS_FILE = "name,phone,groups,status,active,timezone,hours\n"


def test_import_records_only_the_rows_whose_status_changes(make_agent):
    asha = make_agent(
        name="Asha", phone="+919900000001", status="break", missed_in_row=3
    )
    bala = make_agent(name="Bala", phone="+919900000002", status="offline")
    text = AGENTS_FILE + (
        "Asha,+919900000001,,available,yes,Asia/Kolkata,\n"
        "Bala,+919900000002,,offline,yes,Asia/Kolkata,\n"
    )

    import_agents(parsed=parse_agents_csv(text), now=NOW)
    import_agents(parsed=parse_agents_csv(text), now=NOW + MINUTE)  # again: no-op

    asha.refresh_from_db()
    assert (asha.status, asha.missed_in_row) == ("available", 0)
    assert history(asha) == [("break", "available", "", None, "import", NOW)]
    assert history(bala) == []


def test_import_changes_status_before_a_deactivation_and_after_a_reactivation(
    make_agent,
):
    leaving = make_agent(name="Asha", phone="+919900000001")
    back = make_agent(
        name="Bala", phone="+919900000002", active=False, status="offline"
    )
    text = AGENTS_FILE + (
        "Asha,+919900000001,,offline,no,Asia/Kolkata,\n"
        "Bala,+919900000002,,available,yes,Asia/Kolkata,\n"
    )

    import_agents(parsed=parse_agents_csv(text), now=NOW)

    leaving.refresh_from_db()
    back.refresh_from_db()
    assert (leaving.status, leaving.active) == ("offline", False)
    assert (back.status, back.active) == ("available", True)
    assert [row[4] for row in history(leaving) + history(back)] == ["import", "import"]


def test_a_dry_run_import_leaves_breaks_and_history_alone(make_agent):
    agent = make_agent(phone="+919900000001", status="break", status_until=NOW - MINUTE)
    text = AGENTS_FILE + "Asha,+919900000001,,offline,yes,Asia/Kolkata,\n"

    import_agents(parsed=parse_agents_csv(text), now=NOW, dry_run=True)

    agent.refresh_from_db()
    assert agent.status == "break"
    assert StatusChange.objects.count() == 0


def test_export_writes_a_break_past_its_end_as_available(make_agent):
    make_agent(name="Asha", status="break", status_until=NOW - MINUTE)
    make_agent(name="Bala", status="break", status_until=NOW + MINUTE)

    rows = export_agents(now=NOW).splitlines()[1:]

    assert [row.split(",")[3] for row in rows] == [
        AgentStatus.AVAILABLE,
        AgentStatus.BREAK,
    ]
