"""Daily reports: figures per group and day, and the hourly chart's geometry."""

import pytest
from django.urls import reverse

from routing.models import Attempt, Call, CallResult, Outcome
from routing.reports import HourFigures, day_report, hourly_chart
from tests.conftest import at

pytestmark = pytest.mark.django_db


def make_call(sid, group, moment, outcomes, agents):
    """A call first seen at `moment` whose offers ended with `outcomes`, in order."""
    answered = Outcome.COMPLETED in outcomes
    call = Call.objects.create(
        sid=sid,
        group=group,
        first_seen_at=moment,
        result=CallResult.ANSWERED if answered else CallResult.NOT_ANSWERED,
    )
    for position, (outcome, agent) in enumerate(
        zip(outcomes, agents, strict=True), start=1
    ):
        Attempt.objects.create(
            call=call,
            agent=agent,
            group=group,
            number=str(agent.phone),
            position=position,
            offered_at=moment,
            outcome=outcome,
            outcome_at=moment,
        )
    return call


@pytest.fixture
def day(roster):
    support, asha, bala = roster["support"], roster["asha"], roster["bala"]
    make_call("a", support, at(9, 10), [Outcome.COMPLETED], [asha])
    make_call(
        "b", support, at(9, 40), [Outcome.NO_ANSWER, Outcome.COMPLETED], [asha, bala]
    )
    make_call(
        "c", support, at(14), [Outcome.NO_ANSWER, Outcome.NO_ANSWER], [bala, asha]
    )
    make_call("d", support, at(23, 59), [Outcome.BUSY], [bala])
    # Not that day on the group's clock, and not that group.
    make_call("e", support, at(0, 0, day=3), [Outcome.COMPLETED], [asha])
    make_call("f", roster["sales"], at(10), [Outcome.COMPLETED], [roster["chitra"]])
    return at(12).date()


def test_day_report_figures(roster, day, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        report = day_report(group=roster["support"], date=day)
    assert (report.calls, report.answered, report.answered_first_attempt) == (4, 2, 1)
    assert report.answered_share == 0.5
    assert report.first_attempt_share == 0.25
    assert report.attempts_per_call == 6 / 4
    assert [(h.hour, h.calls, h.answered) for h in report.hours if h.calls] == [
        (9, 2, 2),
        (14, 1, 0),
        (23, 1, 0),
    ]
    assert [(a.name, a.offered, a.answered, a.no_answer) for a in report.agents] == [
        ("Asha", 3, 1, 2),
        ("Bala", 3, 1, 1),
    ]


def test_day_report_of_a_quiet_day(roster):
    report = day_report(group=roster["support"], date=at(12, day=5).date())
    assert report.calls == 0
    assert report.answered_share is None and report.attempts_per_call is None
    assert hourly_chart(report.hours).rate_points == ""


def test_hourly_chart_scales_bars_and_rate():
    hours = [HourFigures(hour, 0, 0) for hour in range(24)]
    hours[9] = HourFigures(9, 4, 3)
    hours[10] = HourFigures(10, 2, 0)
    chart = hourly_chart(hours, width=520, height=228)
    plot = chart.bottom - chart.top
    assert chart.bars[9].height == plot and chart.bars[9].y == chart.top
    assert chart.bars[10].height == plot / 2
    assert chart.bars[0].height == 0
    assert [percent for _, _, percent in chart.rate_dots] == [75, 0]
    assert chart.rate_dots[1][1] == chart.bottom


def test_report_page(supervisor_client, day):
    page = reverse("supervisor-report", args=["support"])
    response = supervisor_client.get(page, {"date": day.isoformat()})
    html = response.content.decode()
    assert response.context["report"].calls == 4
    assert '<svg id="hourly-chart"' in html
    assert "<polyline" in html
    assert "50%" in html  # answered share
    today = supervisor_client.get(page)
    assert today.status_code == 200
    bad = supervisor_client.get(page, {"date": "yesterday-ish"})
    assert bad.status_code == 200 and bad.context["form"].errors
