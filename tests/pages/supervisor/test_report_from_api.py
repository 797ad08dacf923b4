"""Reports say how many outcomes came from Exotel's API (reconcile_calls)."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from pages.reports.figures import group_report
from routing.models import Call, CallResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(roster):
    now = timezone.now()
    for sid, from_api in (("live", False), ("api1", True), ("api2", True)):
        Call.objects.create(
            sid=sid,
            group=roster["support"],
            first_seen_at=now,
            result=CallResult.ANSWERED,
            ended_at=now,
            outcome_from_api=from_api,
        )
    return now


def test_the_figures_count_outcomes_from_the_api(roster, calls):
    day = timezone.localdate(calls)
    report = group_report(group=roster["support"], start=day, end=day, now=calls)
    assert (report.total.answered, report.total.from_api) == (3, 2)


def test_the_page_and_csv_say_it(roster, calls, supervisor_client):
    page = reverse("supervisor-report", args=["support"])
    day = timezone.localdate(calls).isoformat()
    html = supervisor_client.get(page, {"start": day}).content.decode()
    assert "2 of these outcomes came from Exotel's API" in html
    download = supervisor_client.get(page, {"start": day, "format": "csv"})
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    column = rows[0].index("outcomes from Exotel's API")
    assert rows[-1][column] == "2"


def test_the_page_says_nothing_when_none_did(roster, supervisor_client):
    page = reverse("supervisor-report", args=["support"])
    assert 'id="from-api"' not in supervisor_client.get(page).content.decode()
