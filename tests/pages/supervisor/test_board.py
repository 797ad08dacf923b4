"""The live board: what it shows per member, and one-click status changes."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents.models import AgentStatus
from pages.supervisor.board import board_members
from routing.models import Call
from tests.conftest import ZONE_QUERIES

pytestmark = pytest.mark.django_db


def test_status_change_from_the_board(supervisor_client, roster):
    asha = roster["asha"]
    asha.missed_in_row = 2
    asha.save()
    url = reverse("supervisor-agent-status", args=["support", asha.pk])
    response = supervisor_client.post(url, {"status": "break", "reason": "lunch"})
    assert response.status_code == 302
    assert response["Location"] == reverse("supervisor-board", args=["support"])
    asha.refresh_from_db()
    assert (asha.status, asha.status_reason, asha.missed_in_row) == (
        AgentStatus.BREAK,
        "lunch",
        0,
    )
    supervisor_client.post(url, {"status": "available", "reason": "ignored"})
    asha.refresh_from_db()
    assert (asha.status, asha.status_reason) == (AgentStatus.AVAILABLE, "")


def test_status_change_rejects_an_unknown_status_and_get(supervisor_client, roster):
    url = reverse("supervisor-agent-status", args=["support", roster["asha"].pk])
    supervisor_client.post(url, {"status": "asleep"})
    assert supervisor_client.get(url).status_code == 405
    roster["asha"].refresh_from_db()
    assert roster["asha"].status == AgentStatus.AVAILABLE


def test_status_change_needs_the_csrf_token(supervisor, roster):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    url = reverse("supervisor-agent-status", args=["support", roster["asha"].pk])
    assert client.post(url, {"status": "break"}).status_code == 403


def test_board_shows_engagement_and_last_answered_call(
    supervisor_client, roster, exotel
):
    asha = roster["asha"]
    assert exotel.numbers("call-a", "support") == [str(asha.phone)]
    rows = reverse("supervisor-board-rows", args=["support"])
    response = supervisor_client.get(rows)
    member = next(m for m in response.context["members"] if m.agent_id == asha.pk)
    call = Call.objects.get(sid="call-a")
    assert member.engaged and member.engaged_outcome == "pending"
    assert member.engaged_call_id == call.pk
    html = response.content.decode()
    assert "ringing or on a call" in html
    assert reverse("supervisor-call-timeline", args=[call.pk]) in html

    exotel.passthru(
        "call-a", DialWhomNumber=str(asha.phone), DialCallStatus="completed"
    )
    member = next(
        m
        for m in supervisor_client.get(rows).context["members"]
        if m.agent_id == asha.pk
    )
    assert member.engaged_outcome == "completed"  # wrap-up
    assert member.last_call_sid == "call-a"


def test_board_does_not_link_calls_the_supervisor_cannot_open(
    supervisor_client, roster, exotel
):
    # Asha also takes sales calls; sunita supervises support only.
    roster["sales"].memberships.create(agent=roster["asha"], priority=1, position=9)
    for name in ("chitra", "dev"):
        roster[name].status = AgentStatus.OFFLINE
        roster[name].save()
    assert exotel.numbers("sales-call", "sales") == [str(roster["asha"].phone)]
    html = supervisor_client.get(
        reverse("supervisor-board-rows", args=["support"])
    ).content.decode()
    assert "sales-call" in html
    sales_call = Call.objects.get(sid="sales-call")
    assert reverse("supervisor-call-timeline", args=[sales_call.pk]) not in html


def test_board_page_refreshes_its_rows_without_a_cdn(supervisor_client, roster):
    html = supervisor_client.get(
        reverse("supervisor-board", args=["support"])
    ).content.decode()
    assert reverse("supervisor-board-rows", args=["support"]) in html
    assert "fetch(" in html
    assert "//" not in "".join(re.findall(r'<script src="([^"]*)"', html))


def test_board_queries_do_not_grow_with_the_group(
    roster, make_agent, django_assert_num_queries
):
    for n in range(10):
        make_agent(f"Extra {n}", roster["support"])
    # The agents' time zones (but on PostgreSQL), then the rows.
    with django_assert_num_queries(1 + ZONE_QUERIES):
        members = list(board_members(group=roster["support"], now=timezone.now()))
    assert len(members) == 12
