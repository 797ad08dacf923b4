"""Reports: call results as DESIGN 8.1 defines them, the lead's figures per day or
range, the callers to call back, and the charts' geometry."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from pages.reports.callbacks import missed_callers
from pages.reports.charts import hourly_chart
from pages.reports.figures import Figures, HourFigures, group_report
from routing.models import Attempt, Call, CallBack, CallResult, DerivedResult, Outcome
from tests.conftest import at

pytestmark = pytest.mark.django_db

DAY = at(12).date()  # Monday 2026-11-02 on the group's clock (IST)
NOW = at(23)
FALLBACK = "+919900000099"


def make_call(sid, group, moment, offers, *, result=None, caller="", answered_by=None):
    """A call first seen at `moment`; `offers` are (outcome, agent or None, hold).

    `hold` is the hold time left at NOW in seconds (None: no hold, as a fallback
    number). The stored result is ANSWERED when an offer completed, else `result`
    (default: in progress, nothing reported).
    """
    answered = [agent for outcome, agent, _ in offers if outcome == Outcome.COMPLETED]
    call = Call.objects.create(
        sid=sid,
        group=group,
        caller=caller,
        first_seen_at=moment,
        result=CallResult.ANSWERED if answered else result or CallResult.IN_PROGRESS,
        answered_by=answered_by or (answered[0] if answered else None),
    )
    for position, (outcome, agent, hold) in enumerate(offers, start=1):
        Attempt.objects.create(
            call=call,
            agent=agent,
            group=group,
            number=str(agent.phone) if agent else FALLBACK,
            position=position,
            offered_at=moment,
            hold_until=None if hold is None else NOW + dt.timedelta(seconds=hold),
            outcome=outcome,
            outcome_at=None if outcome == Outcome.PENDING else moment,
        )
    return call


def counts(figures: Figures):
    return (
        figures.answered,
        figures.not_answered,
        figures.abandoned,
        figures.in_progress,
        figures.no_outcome,
    )


A, B = "asha", "bala"
RESULT_CASES = [
    # id, offers as (outcome, agent key or None, hold left at NOW), stored result,
    # expected (answered, not answered, abandoned, in progress, no outcome)
    (
        "answered-counted-as-answered",
        [(Outcome.COMPLETED, A, 0)],
        None,
        (1, 0, 0, 0, 0),
    ),
    (
        "abandoned-not-counted-as-unanswered",
        [(Outcome.CANCELED, A, 0)],
        CallResult.ABANDONED,
        (0, 0, 1, 0, 0),
    ),
    (
        "passthru-not-answered-stands",
        [(Outcome.NO_ANSWER, A, 0)],
        CallResult.NOT_ANSWERED,
        (0, 1, 0, 0, 0),
    ),
    (
        "offers-ran-out-counted-as-not-answered",
        [(Outcome.NO_ANSWER, A, 0), (Outcome.BUSY, B, 0)],
        None,
        (0, 1, 0, 0, 0),
    ),
    ("empty-first-answer-counted-as-not-answered", [], None, (0, 1, 0, 0, 0)),
    (
        "pending-offer-inside-hold-is-in-progress",
        [(Outcome.NO_ANSWER, A, 0), (Outcome.PENDING, B, 60)],
        None,
        (0, 0, 0, 1, 0),
    ),
    (
        "pending-offer-past-hold-is-no-outcome-reported",
        [(Outcome.PENDING, A, -1)],
        None,
        (0, 0, 0, 0, 1),
    ),
    (
        "expired-offer-is-no-outcome-reported",
        [(Outcome.EXPIRED, A, -60)],
        None,
        (0, 0, 0, 0, 1),
    ),
    (
        "unreported-fallback-number-is-no-outcome-reported",
        [(Outcome.NO_ANSWER, A, 0), (Outcome.PENDING, None, None)],
        None,
        (0, 0, 0, 0, 1),
    ),
]


@pytest.mark.parametrize(
    ("offers", "result", "expected"),
    [case[1:] for case in RESULT_CASES],
    ids=[case[0] for case in RESULT_CASES],
)
def test_call_results(roster, offers, result, expected):
    offers = [(o, roster[key] if key else None, hold) for o, key, hold in offers]
    call = make_call("c1", roster["support"], at(10), offers, result=result)
    report = group_report(group=roster["support"], start=DAY, end=DAY, now=NOW)
    assert counts(report.total) == expected
    assert report.total.calls == 1
    derived = Call.objects.with_derived_result(NOW).get(pk=call.pk).derived_result
    results = list(DerivedResult)[: len(expected)]  # blocked is counted apart
    assert derived == [r for r, n in zip(results, expected, strict=True) if n][0]


@pytest.fixture
def day(roster):
    """Four calls of support on DAY, one the day after, one of another group."""
    support, asha, bala = roster["support"], roster["asha"], roster["bala"]
    make_call("a", support, at(9, 10), [(Outcome.COMPLETED, asha, 0)], caller="+1")
    make_call(
        "b",
        support,
        at(9, 40),
        [(Outcome.NO_ANSWER, asha, 0), (Outcome.COMPLETED, bala, 0)],
        caller="+2",
    )
    make_call(
        "c",
        support,
        at(14),
        [
            (Outcome.NO_ANSWER, bala, 0),
            (Outcome.NO_ANSWER, asha, 0),
            (Outcome.NO_ANSWER, None, None),
        ],
        result=CallResult.NOT_ANSWERED,
        caller="+1",
    )
    make_call("d", support, at(23, 59), [(Outcome.PENDING, bala, 60)], caller="+3")
    make_call("e", support, at(0, 0, day=3), [(Outcome.COMPLETED, asha, 0)])
    make_call("f", roster["sales"], at(10), [(Outcome.COMPLETED, roster["chitra"], 0)])
    return DAY


FIGURE_CASES = [
    ("calls-of-the-groups-calendar-day-only", lambda f: f.calls, 4),
    ("answer-rate-leaves-calls-in-progress-out", lambda f: f.answer_rate, 2 / 3),
    ("first-attempt-share-of-answered-calls", lambda f: f.first_attempt_rate, 1 / 2),
    (
        "attempts-per-answered-call-counts-only-answered-calls",
        lambda f: f.attempts_per_answered_call,
        3 / 2,
    ),
    ("repeat-caller-within-24h-counted", lambda f: f.repeat_callers, 1),
    ("callers-counted-once", lambda f: f.callers, 3),
    ("repeat-caller-rate", lambda f: f.repeat_caller_rate, 1 / 3),
]


@pytest.mark.parametrize(
    ("figure", "expected"),
    [case[1:] for case in FIGURE_CASES],
    ids=[case[0] for case in FIGURE_CASES],
)
def test_day_figures(roster, day, figure, expected):
    report = group_report(group=roster["support"], start=day, end=day, now=NOW)
    assert figure(report.total) == pytest.approx(expected)
    assert figure(report.days[0].figures) == pytest.approx(expected)


def test_report_query_budget_does_not_grow_with_the_range(
    roster, day, django_assert_num_queries
):
    with django_assert_num_queries(5):
        group_report(group=roster["support"], start=day, end=day, now=NOW)
    with django_assert_num_queries(5):
        group_report(
            group=roster["support"], start=day, end=day + dt.timedelta(30), now=NOW
        )


def test_fallback_numbers_listed_so_per_agent_rows_add_up(roster, day):
    report = group_report(group=roster["support"], start=day, end=day, now=NOW)
    rows = [
        (a.name, a.is_fallback, a.offered, a.answered, a.no_answer, a.other)
        for a in report.agents
    ]
    assert rows == [
        ("Asha", False, 3, 1, 2, 0),
        ("Bala", False, 3, 1, 1, 1),
        ("Fallback number", True, 1, 0, 1, 0),
    ]
    total = report.totals_by_agent
    assert (
        total.offered
        == 7
        == Attempt.objects.filter(
            call__group=roster["support"], call__first_seen_at__date=day
        ).count()
    )
    assert total.offered == sum(
        (total.answered, total.no_answer, total.busy_or_failed, total.other)
    )


def test_a_range_of_days(roster, day):
    report = group_report(
        group=roster["support"], start=day, end=day + dt.timedelta(1), now=NOW
    )
    assert [(d.date, d.figures.calls) for d in report.days] == [
        (day, 4),
        (day + dt.timedelta(1), 1),
    ]
    assert report.total.calls == 5 and report.total.answered == 3
    with pytest.raises(ValueError, match="1 to 31 days"):
        group_report(
            group=roster["support"], start=day, end=day + dt.timedelta(31), now=NOW
        )


def test_busiest_hours(roster, day):
    report = group_report(group=roster["support"], start=day, end=day, now=NOW)
    assert [(h.hour, h.calls) for h in report.busiest_hours] == [
        (9, 2),
        (14, 1),
        (23, 1),
    ]


def test_repeat_after_24_hours_not_counted(roster):
    support = roster["support"]
    make_call("x1", support, at(9), [], caller="+5")
    make_call("x2", support, at(9, 1, day=3), [], caller="+5")
    report = group_report(group=support, start=DAY, end=DAY, now=NOW)
    assert (report.total.callers, report.total.repeat_callers) == (1, 0)


def test_quiet_day(roster):
    report = group_report(group=roster["support"], start=DAY, end=DAY, now=NOW)
    assert report.total.calls == 0 and report.total.answer_rate is None
    assert report.total.attempts_per_answered_call is None
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
    assert [label for _, label in chart.labels] == [
        f"{h:02d}:00" for h in range(0, 24, 3)
    ]


def test_report_page_and_csv(supervisor_client, day):
    page = reverse("supervisor-report", args=["support"])
    response = supervisor_client.get(page, {"start": day.isoformat()})
    html = response.content.decode()
    assert response.context["report"].total.calls == 4
    assert '<svg id="hourly-chart"' in html and "<polyline" in html
    assert "Fallback number" in html
    download = supervisor_client.get(page, {"start": day.isoformat(), "format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:3] == ["date", "calls", "answered"]
    assert rows[1][:3] == [day.isoformat(), "4", "2"] and rows[-1][0] == "total"
    assert supervisor_client.get(page).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        {"start": "yesterday-ish"},
        {"start": "2026-11-02", "end": "2026-12-31"},
        {"start": "2026-11-05", "end": "2026-11-02"},
    ],
    ids=["not-a-date", "more-than-31-days", "end-before-start"],
)
def test_report_page_bad_range_is_a_form_error(supervisor_client, roster, query):
    response = supervisor_client.get(
        reverse("supervisor-report", args=["support"]), query
    )
    assert response.status_code == 200 and response.context["form"].errors


# Missed callers: each case is a list of calls of one caller (+7) as
# (moment, offers, stored result), then whether they are listed and with how many tries.
NO = [(Outcome.NO_ANSWER, A, 0)]
YES = [(Outcome.COMPLETED, A, 0)]
MISSED_CASES = [
    ("not-answered-caller-listed", [(at(10), NO, CallResult.NOT_ANSWERED)], 1),
    ("abandoned-caller-listed", [(at(10), [], CallResult.ABANDONED)], 1),
    ("no-outcome-caller-listed", [(at(10), [(Outcome.EXPIRED, A, -1)], None)], 1),
    ("in-progress-not-listed-yet", [(at(10), [(Outcome.PENDING, A, 60)], None)], 0),
    (
        "answered-later-not-listed",
        [(at(10), NO, CallResult.NOT_ANSWERED), (at(11), YES, None)],
        0,
    ),
    (
        "answered-the-next-day-not-listed",
        [(at(10), NO, CallResult.NOT_ANSWERED), (at(9, day=3), YES, None)],
        0,
    ),
    (
        "answered-before-still-listed",
        [(at(9), YES, None), (at(10), NO, CallResult.NOT_ANSWERED)],
        1,
    ),
    (
        "tries-counted-since-the-last-answer",
        [
            (at(8), NO, CallResult.NOT_ANSWERED),
            (at(9), YES, None),
            (at(10), NO, CallResult.NOT_ANSWERED),
            (at(11), [], CallResult.ABANDONED),
        ],
        2,
    ),
]


@pytest.mark.parametrize(
    ("calls", "tries"),
    [case[1:] for case in MISSED_CASES],
    ids=[case[0] for case in MISSED_CASES],
)
def test_missed_callers(roster, calls, tries):
    for index, (moment, offers, result) in enumerate(calls):
        offers = [(o, roster[key], hold) for o, key, hold in offers]
        make_call(
            f"m{index}", roster["support"], moment, offers, result=result, caller="+7"
        )
    rows = missed_callers(group=roster["support"], start=DAY, end=DAY, now=NOW)
    assert [(row.caller, row.tries) for row in rows] == (
        [("+7", tries)] if tries else []
    )


def test_missed_callers_newest_first_with_the_sticky_agent(roster):
    support = roster["support"]
    make_call(
        "s0", support, at(8), [(Outcome.COMPLETED, roster["bala"], 0)], caller="+8"
    )
    make_call("s1", support, at(9), [], result=CallResult.ABANDONED, caller="+8")
    make_call("s2", support, at(10), [], result=CallResult.NOT_ANSWERED, caller="+9")
    make_call("s3", support, at(11), [], result=CallResult.NOT_ANSWERED)
    rows = missed_callers(group=support, start=DAY, end=DAY, now=NOW)
    assert [(r.caller, r.last_answered_by, r.last_result) for r in rows] == [
        ("+9", "", DerivedResult.NOT_ANSWERED),
        ("+8", "Bala", DerivedResult.ABANDONED),
    ]


def test_called_back_mark_kept_until_the_caller_misses_again(roster, supervisor):
    support = roster["support"]
    make_call("k1", support, at(10), [], result=CallResult.NOT_ANSWERED, caller="+7")
    CallBack.objects.create(
        group=support, caller="+7", marked_by=supervisor, marked_at=at(11)
    )
    [row] = missed_callers(group=support, start=DAY, end=DAY, now=NOW)
    assert (row.called_back.marked_by, row.called_back.marked_at) == (
        supervisor,
        at(11),
    )
    assert (
        missed_callers(
            group=support, start=DAY, end=DAY, now=NOW, include_called_back=False
        )
        == []
    )
    make_call("k2", support, at(12), [], result=CallResult.NOT_ANSWERED, caller="+7")
    [row] = missed_callers(group=support, start=DAY, end=DAY, now=NOW)
    assert row.called_back is None and row.tries == 2


def test_missed_callers_page_marks_a_caller(supervisor_client, roster, supervisor):
    support = roster["support"]
    make_call(
        "p1",
        support,
        at(10),
        [],
        result=CallResult.NOT_ANSWERED,
        caller="+919812345678",
    )
    page = reverse("supervisor-missed-callers", args=["support"])
    response = supervisor_client.get(page, {"start": DAY.isoformat()})
    assert "+919812345678" in response.content.decode()
    response = supervisor_client.post(
        page + f"?start={DAY.isoformat()}", {"caller": "+919812345678"}
    )
    assert response.status_code == 302
    mark = CallBack.objects.get()
    assert (mark.group, mark.caller, mark.marked_by) == (
        support,
        "+919812345678",
        supervisor,
    )
    other = reverse("supervisor-missed-callers", args=["sales"])
    assert supervisor_client.post(other, {"caller": "+919812345678"}).status_code == 404


def test_missed_callers_command(roster, supervisor):
    support = roster["support"]
    now = timezone.now()
    make_call(
        "q1", support, now, [], result=CallResult.NOT_ANSWERED, caller="+919812345678"
    )
    out = io.StringIO()
    call_command("missed_callers", stdout=out)
    text = out.getvalue()
    assert "Support (support)" in text and "+919812345678  1 try" in text
    CallBack.objects.create(group=support, caller="+919812345678", marked_by=supervisor)
    out = io.StringIO()
    call_command("missed_callers", stdout=out)
    assert out.getvalue() == ""
    out = io.StringIO()
    call_command("missed_callers", "--all", stdout=out)
    assert "called back by sunita" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--days", "32"], "1 to 31"), (["--group", "nope"], "unknown group nope")],
    ids=["more-than-31-days-refused", "unknown-group-refused"],
)
def test_missed_callers_command_refuses(roster, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("missed_callers", *args, stdout=io.StringIO())


END_TO_END = [
    # id, what Exotel sends after the first offer, the call's result in the report
    (
        "answered-through-the-passthru",
        {"DialCallStatus": "completed", "DialCallDuration": "42"},
        DerivedResult.ANSWERED,
    ),
    (
        "caller-hung-up-is-abandoned-not-unanswered",
        {"DialCallStatus": "canceled", "CallType": "client-hangup"},
        DerivedResult.ABANDONED,
    ),
    (
        "passthru-no-answer-is-not-answered",
        {"DialCallStatus": "no-answer"},
        DerivedResult.NOT_ANSWERED,
    ),
    ("no-news-is-in-progress-while-held", None, DerivedResult.IN_PROGRESS),
]


@pytest.mark.parametrize(
    ("ending", "expected"),
    [case[1:] for case in END_TO_END],
    ids=[case[0] for case in END_TO_END],
)
def test_calls_through_the_endpoint_land_in_the_report(
    roster, exotel, ending, expected
):
    asha = str(roster["asha"].phone)
    assert exotel.numbers("e2e-1", "support", From="09812345678")[:1] == [asha]
    if ending is not None:
        exotel.passthru("e2e-1", DialWhomNumber=asha, **ending)
    now = timezone.now()
    today = timezone.localdate(now)
    report = group_report(group=roster["support"], start=today, end=today, now=now)
    assert report.total.calls == 1
    named = dict(zip(list(DerivedResult)[:5], counts(report.total), strict=True))
    assert named[expected] == 1, named
    missed = missed_callers(group=roster["support"], start=today, end=today, now=now)
    listed = expected not in (DerivedResult.ANSWERED, DerivedResult.IN_PROGRESS)
    assert [row.caller for row in missed] == (["+919812345678"] if listed else [])
