"""The walk-through of docs/skills-and-callers.md, step by step: every answer and
every preview line it quotes."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from agents.models import AgentGroup, Route
from pages.preview import preview_route
from routing.calls.services import route_call
from routing.exotel.requests import parse_exotel_request
from tests.conftest import at

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parents[1] / "examples" / "language-menu"
NOON = at(12)
ASHA, BALA, CHEN, DIVYA = (f"+9199000000{n}" for n in (11, 12, 13, 14))
FALLBACK = "+919900000090"


@pytest.fixture
def menu():
    for kind in ("groups", "agents", "routes", "callers"):
        call_command(f"import_{kind}", FILES / f"{kind}.csv", stdout=io.StringIO())


def ask(sid, digits, caller="09876543210", now=NOON, **report):
    request = parse_exotel_request(
        {
            "CallSid": sid,
            "CallFrom": caller,
            "CallTo": "08047190005",
            "digits": f'"{digits}"',
            **report,
        }
    )
    return route_call(request=request, group_slug=None, now=now).numbers


def test_each_menu_choice_rings_who_speaks_it(menu):
    assert ask("hindi-call", 1) == [ASHA]
    assert ask("tamil-call", 2) == [BALA]
    assert ask("english-call", 3) == [CHEN]


def test_hindi_relaxes_after_a_minute(menu):
    assert ask("c", 1) == [ASHA]
    missed = {"DialWhomNumber": ASHA, "DialCallStatus": "no-answer"}
    # Within the minute nobody else speaks Hindi at level 3: the fallback number.
    assert ask("c", 1, now=NOON + dt.timedelta(seconds=20), **missed) == [FALLBACK]
    busy = {"DialWhomNumber": FALLBACK, "DialCallStatus": "busy"}
    later = NOON + dt.timedelta(seconds=70)
    assert ask("c", 1, now=later, **busy) == [BALA]


def test_tamil_never_relaxes(menu):
    assert ask("c", 2) == [BALA]
    missed = {"DialWhomNumber": BALA, "DialCallStatus": "no-answer"}
    assert ask("c", 2, now=NOON + dt.timedelta(minutes=5), **missed) == [DIVYA]
    missed = {"DialWhomNumber": DIVYA, "DialCallStatus": "no-answer"}
    assert ask("c", 2, now=NOON + dt.timedelta(minutes=6), **missed) == [FALLBACK]


def test_the_key_account_rings_its_owner_first_and_the_blocked_caller_nobody(menu):
    assert ask("meena", 1, caller="09812345678") == [BALA]
    assert ask("blocked", 1, caller="09811111111") == []


def test_what_the_preview_shows(menu):
    preview = preview_route(
        group=AgentGroup.objects.get(slug="helpdesk"),
        caller="+919812345678",
        moment=NOON,
        route=Route.objects.get(slug="hindi"),
    )
    assert preview.needs == "needs Hindi, level 3 or more"
    assert [(n.agent_name, n.reason) for n in preview.numbers] == [
        ("Bala Murugan", "helpdesk: owner of this caller")
    ]
    notes = {v.membership.agent.name: v.notes for v in preview.groups[0].members}
    assert notes == {
        "Asha Rao": ["meets the needs"],
        "Bala Murugan": [
            "owner of this caller",
            "lacks hindi (does not have it, needs 3)",
        ],
        "Chen Li": ["lacks hindi (does not have it, needs 3)"],
        "Divya Iyer": ["lacks hindi (has 2, needs 3)"],
    }
    assert preview.notes == [
        "needs hindi 3+: only agents who meet them",
        "only agents who meet the needs ring for 60 seconds, then the others too",
        "owner Bala Murugan rings first when available",
    ]


def test_what_the_preview_page_says(menu, admin_client):
    page = admin_client.get(
        reverse("supervisor-preview", args=["helpdesk"]),
        {"caller": "09812345678", "route": "hindi"},
    ).content.decode()
    for line in (
        "The call needs Hindi, level 3 or more.",
        "Known caller: Meena Traders (Key account: Bala handles their orders).",
        "Only agents who meet the needs ring for 60 seconds, then the others too.",
        "Owner Bala Murugan rings first when available.",
        "helpdesk: owner of this caller",
        "lacks hindi (has 2, needs 3)",
    ):
        assert line in page, line
