"""The board's status parts: history with who and where, breaks with an end, links."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent, AgentStatus, StatusChange, StatusVia
from agents.personal_links import agent_for_personal_token
from agents.status import set_agent_status

pytestmark = pytest.mark.django_db


def status_url(agent, group="support"):
    return reverse("supervisor-agent-status", args=[group, agent.pk])


def rows_html(client) -> str:
    return client.get(
        reverse("supervisor-board-rows", args=["support"])
    ).content.decode()


def test_a_board_change_is_kept_with_the_supervisor(
    supervisor_client, supervisor, roster
):
    asha = roster["asha"]

    supervisor_client.post(
        status_url(asha), {"status": "break", "reason": "lunch", "minutes": "30"}
    )

    asha.refresh_from_db()
    left = asha.status_until - timezone.now()
    assert dt.timedelta(minutes=29) < left <= dt.timedelta(minutes=30)
    change = StatusChange.objects.get(agent=asha)
    assert (change.via, change.user, change.reason) == ("board", supervisor, "lunch")
    html = rows_html(supervisor_client)
    until = timezone.localtime(asha.status_until)
    assert f"until {until:%H:%M}" in html
    assert "live board (sunita)" in html


def test_the_board_says_where_a_status_came_from(supervisor_client, roster):
    set_agent_status(
        agents=Agent.objects.filter(pk=roster["bala"].pk),
        status="offline",
        via=StatusVia.KEYPAD,
        now=timezone.now(),
    )
    assert "&middot; phone keypad</span>" in rows_html(supervisor_client)


def test_an_inactive_agent_is_refused_on_the_board(supervisor_client, roster):
    Agent.objects.filter(pk=roster["asha"].pk).update(active=False)
    response = supervisor_client.post(
        status_url(roster["asha"]), {"status": "offline"}, follow=True
    )
    assert "Asha is inactive: status not changed." in response.content.decode()
    assert StatusChange.objects.count() == 0


def test_a_break_past_its_end_shows_available_on_the_board(supervisor_client, roster):
    end = timezone.now() - dt.timedelta(minutes=1)
    Agent.objects.filter(pk=roster["asha"].pk).update(
        status=AgentStatus.BREAK, status_until=end
    )

    html = rows_html(supervisor_client)

    roster["asha"].refresh_from_db()
    assert roster["asha"].status == AgentStatus.AVAILABLE
    assert "&middot; break ended</span>" in html


def test_a_bad_length_changes_nothing(supervisor_client, roster):
    supervisor_client.post(
        status_url(roster["asha"]), {"status": "break", "minutes": "999"}
    )
    assert StatusChange.objects.count() == 0


def test_the_personal_link_from_the_board(supervisor_client, roster):
    asha = roster["asha"]
    url = reverse("supervisor-personal-link", args=["support", asha.pk])
    assert url in rows_html(supervisor_client)

    response = supervisor_client.post(url)

    assert response.status_code == 200
    link = response.context["link"]
    assert agent_for_personal_token(link.rstrip("/").rsplit("/", 1)[1]) == asha
    assert reverse("supervisor-board", args=["support"]) in response.content.decode()


def test_the_personal_link_is_scoped_and_post_only(supervisor_client, roster):
    chitra = roster["chitra"]  # in sales, which sunita does not supervise
    assert (
        supervisor_client.post(
            reverse("supervisor-personal-link", args=["sales", chitra.pk])
        ).status_code
        == 404
    )
    assert (
        supervisor_client.post(
            reverse("supervisor-personal-link", args=["support", chitra.pk])
        ).status_code
        == 404
    )
    assert (
        supervisor_client.get(
            reverse("supervisor-personal-link", args=["support", roster["asha"].pk])
        ).status_code
        == 405
    )
    assert not Agent.objects.exclude(personal_token_hash="").exists()


def test_the_agent_time_page(supervisor_client, roster):
    group = roster["support"]
    asha = roster["asha"]
    day = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=2)
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    group.timezone = "UTC"
    group.save()
    yesterday = start - dt.timedelta(hours=2)
    set_agent_status(
        agents=Agent.objects.filter(pk=asha.pk),
        status="offline",
        via=StatusVia.BOARD,
        now=yesterday,
    )
    for minutes, old, new, via in [
        (60, "offline", "available", StatusVia.PAGE),
        (120, "available", "break", StatusVia.MISSED_CALLS),
        (135, "break", "available", StatusVia.BOARD),
    ]:
        StatusChange.objects.create(
            agent=asha,
            old_status=old,
            new_status=new,
            changed_at=start + dt.timedelta(minutes=minutes),
            via=via,
        )
    url = reverse("supervisor-agent-time", args=["support"])

    response = supervisor_client.get(
        url, {"date": (day - dt.timedelta(days=1)).isoformat()}
    )
    row = next(r for r in response.context["rows"] if r.agent == asha)
    assert (row.time.offline, row.time.available) == (
        dt.timedelta(hours=2),
        dt.timedelta(hours=22),
    )

    response = supervisor_client.get(url, {"date": day.isoformat()})
    row = next(r for r in response.context["rows"] if r.agent == asha)
    assert row.time.offline == dt.timedelta(hours=1)
    assert (row.time.missed_call_pauses, row.time.paused) == (
        1,
        dt.timedelta(minutes=15),
    )
    bala = next(r for r in response.context["rows"] if r.agent == roster["bala"])
    assert bala.time.offline == dt.timedelta(0)  # never changed: available all along
    html = response.content.decode()
    assert "1h 00m" in html and "0h 15m" in html
    assert [r.agent.name for r in response.context["rows"]] == ["Asha", "Bala"]


def test_the_agent_time_page_is_scoped_and_bounded(
    supervisor_client, roster, make_agent, django_assert_max_num_queries
):
    assert (
        supervisor_client.get(
            reverse("supervisor-agent-time", args=["sales"])
        ).status_code
        == 404
    )
    url = reverse("supervisor-agent-time", args=["support"])
    supervisor_client.get(url)
    with django_assert_max_num_queries(20) as few:
        supervisor_client.get(url)
    for n in range(10):
        make_agent(f"Extra {n}", roster["support"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert supervisor_client.get(url).status_code == 200
