"""The admin as a team lead reads it: words, one time format, links both ways."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from agents.coverage import Gap
from agents.models import AgentHours
from pages.supervisor.views import _gap_text
from routing.models import Attempt, Call, CallResult, Outcome, WebhookRequest
from tests.conftest import at

pytestmark = pytest.mark.django_db

SID = "23c162077629863c1a2d7f29263a162m"


@pytest.fixture
def call(roster):
    call = Call.objects.create(
        sid=SID,
        group=roster["support"],
        caller="+919812345678",
        first_seen_at=at(14, 2),
        result=CallResult.NOT_ANSWERED,
    )
    Attempt.objects.create(
        call=call,
        agent=roster["asha"],
        group=roster["support"],
        number=str(roster["asha"].phone),
        position=1,
        offered_at=at(14, 2),
        hold_until=at(14, 7),
        outcome=Outcome.NO_ANSWER,
        outcome_at=at(14, 3),
    )
    WebhookRequest.objects.create(
        call=call,
        call_sid=SID,
        endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
        group_slug="support",
        status_code=200,
        response_body=str(roster["asha"].phone),
        notes="support: tier 1, sequential",
        duration_ms=15.442196999970292,
        received_at=at(14, 2),
    )
    return call


def html(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_requests_list_says_what_its_columns_mean(supervisor_client, call):
    page = html(supervisor_client, reverse("admin:routing_webhookrequest_changelist"))
    assert "Our answer" in page and "Notes" in page
    assert "15 ms" in page and "15.44" not in page
    assert f'title="{SID}"' in page  # the whole CallSid on hover and copy


@pytest.mark.parametrize(
    "url",
    [
        "admin:routing_call_changelist",
        "admin:routing_webhookrequest_changelist",
        "admin:agents_agent_changelist",
    ],
    ids=["calls", "requests", "agents"],
)
def test_one_24_hour_format_on_the_groups_clock(supervisor_client, call, url):
    page = html(supervisor_client, reverse(url))
    assert "a.m." not in page and "p.m." not in page
    assert "Times on the Asia/Kolkata clock" in page
    if url != "admin:agents_agent_changelist":
        assert "Mon 02 Nov 2026, 14:02:00" in page


def test_calls_list_shows_the_derived_result_and_filters_by_it(
    supervisor_client, roster, call
):
    lapsed = Call.objects.create(
        sid="lapsed", group=roster["support"], first_seen_at=at(15)
    )
    Attempt.objects.create(
        call=lapsed, number="+919900000099", position=1, outcome=Outcome.EXPIRED
    )
    url = reverse("admin:routing_call_changelist")
    assert "No outcome reported" in html(supervisor_client, url)
    filtered = supervisor_client.get(url, {"result": "no-outcome"})
    assert [c.sid for c in filtered.context["cl"].result_list] == ["lapsed"]


def test_agent_links_to_its_boards_and_calls_and_back(supervisor_client, roster, call):
    asha = roster["asha"]
    page = html(supervisor_client, reverse("admin:agents_agent_change", args=[asha.pk]))
    calls = reverse("admin:routing_call_changelist") + f"?agent={asha.pk}"
    assert calls in page
    assert reverse("supervisor-board", args=["support"]) in page
    assert reverse("supervisor-board", args=["sales"]) not in page
    offered = supervisor_client.get(calls)
    assert [c.sid for c in offered.context["cl"].result_list] == [SID]
    board = html(supervisor_client, reverse("supervisor-board", args=["support"]))
    assert reverse("admin:agents_agent_change", args=[asha.pk]) in board


def test_group_links_to_its_pages_and_back(supervisor_client, roster):
    support = roster["support"]
    change = reverse("admin:agents_agentgroup_change", args=[support.pk])
    pages = [
        reverse("supervisor-preview", args=["support"]),
        reverse("supervisor-board", args=["support"]),
        reverse("supervisor-report", args=["support"]),
        reverse("supervisor-missed-callers", args=["support"]),
        reverse("admin:routing_call_changelist") + f"?group__id__exact={support.pk}",
    ]
    for page in (change, reverse("admin:agents_agentgroup_changelist")):
        text = html(supervisor_client, page)
        assert all(link in text for link in pages), page
    for page in pages[:4]:
        assert change in html(supervisor_client, page), page


def test_weekly_hours_are_plain_time_boxes(supervisor_client, roster):
    asha = roster["asha"]
    AgentHours.objects.create(
        agent=asha, weekday=0, starts=dt.time(9), ends=dt.time(18)
    )
    page = html(supervisor_client, reverse("admin:agents_agent_change", args=[asha.pk]))
    [starts] = re.findall(r"<input[^>]*id=\"id_hours-0-starts\"[^>]*>", page)
    assert 'value="09:00"' in starts
    assert "vTimeField" not in starts  # the admin's clock widget, with its "Now" link


def test_timeline_says_our_answer_and_whole_milliseconds(supervisor_client, call):
    page = html(supervisor_client, reverse("supervisor-call-timeline", args=[call.pk]))
    assert "Our answer (numbers to dial)" in page and "Answered:" not in page
    assert "took 15 ms" in page and "Notes: support: tier 1" in page


@pytest.mark.parametrize(
    ("starts", "ends", "text"),
    [
        (at(18), at(20, 30), "Mon 02 Nov 2026, 18:00 to 20:30 (2 h 30 min)"),
        (at(22), at(6, day=3), "Mon 02 Nov 2026, 22:00 to Tue 03 Nov 2026, 06:00"),
    ],
    ids=["gap-within-a-day", "gap-past-midnight-names-its-end-day"],
)
def test_coverage_gaps_in_the_pages_format(starts, ends, text):
    assert _gap_text(Gap(starts=starts, ends=ends), "Asia/Kolkata").startswith(text)


def test_admin_on_the_clock_of_the_supervisors_groups(supervisor_client, roster, call):
    roster["support"].timezone = "Europe/London"
    roster["support"].save()
    page = html(supervisor_client, reverse("admin:routing_call_changelist"))
    assert "Times on the Europe/London clock" in page
    assert "Mon 02 Nov 2026, 08:32:00" in page  # 14:02 in India


def test_superuser_over_several_zones_reads_the_servers_clock(
    admin_client, roster, call
):
    roster["sales"].timezone = "Europe/London"
    roster["sales"].save()
    page = html(admin_client, reverse("admin:routing_call_changelist"))
    assert "Times on the Asia/Kolkata clock" in page


def test_coverage_names_a_groups_clock_only_when_it_is_not_the_pages(
    supervisor_client, roster
):
    roster["sales"].supervisors.add(roster["support"].supervisors.get())
    roster["sales"].timezone = "Europe/London"
    roster["sales"].save()
    page = html(supervisor_client, reverse("supervisor-coverage"))
    assert page.count("(on the Europe/London clock)") == 1
    assert "(on the Asia/Kolkata clock)" not in page


def test_preview_reads_and_writes_times_on_the_groups_clock(supervisor_client, roster):
    roster["support"].timezone = "Europe/London"
    roster["support"].save()
    response = supervisor_client.get(
        reverse("supervisor-preview", args=["support"]), {"moment": "2026-11-02 09:00"}
    )
    preview = response.context["preview"]
    assert preview.moment == at(14, 30)  # 09:00 in London is 14:30 in India
    assert "A new call at Mon 02 Nov 2026, 09:00" in response.content.decode()


def test_no_view_site_link_to_a_page_that_does_not_exist(supervisor_client, roster):
    assert "View site" not in html(supervisor_client, reverse("admin:index"))
