"""Speed of answer and service level, for calls whose answer time the events gave."""

import pytest
from django.urls import reverse

from pages.reports.figures import answer_speed
from routing.models import Call, CallResult
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(roster):
    support = roster["support"]
    support.service_level_seconds = 10
    support.save()
    for sid, moment, seconds in [
        ("a", at(9), 4.0),
        ("b", at(10), 10.0),  # on the threshold: within
        ("c", at(11), 31.0),
        ("d", at(12), None),  # answered without events: no answer time
        ("e", at(0, 0, day=3), 1.0),  # another day on the group's clock
    ]:
        Call.objects.create(
            sid=sid,
            group=support,
            first_seen_at=moment,
            result=CallResult.ANSWERED,
            answer_seconds=seconds,
        )
    Call.objects.create(
        sid="f", group=roster["sales"], first_seen_at=at(9), answer_seconds=1.0
    )
    return at(12).date()


def test_answer_speed(roster, day, django_assert_num_queries):
    with django_assert_num_queries(1):
        speed = answer_speed(group=roster["support"], start=day, end=day)
    assert (speed.timed, speed.within, speed.threshold_seconds) == (3, 2, 10)
    assert speed.average_seconds == pytest.approx(15.0)
    assert speed.service_level == pytest.approx(2 / 3)


def test_no_answer_times_no_figures(roster):
    quiet = at(12, day=5).date()
    speed = answer_speed(group=roster["support"], start=quiet, end=quiet)
    assert speed.timed == 0
    assert speed.average_seconds is None and speed.service_level is None


def test_a_range_of_days(roster, day):
    speed = answer_speed(group=roster["support"], start=day, end=at(12, day=3).date())
    assert (speed.timed, speed.within) == (4, 3)


def test_report_page_shows_the_speed_only_when_known(supervisor_client, day):
    page = reverse("supervisor-report", args=["support"])
    html = supervisor_client.get(page, {"start": day.isoformat()}).content.decode()
    assert 'id="answer-speed"' in html
    assert "15.0 s" in html
    assert "67%" in html and "within 10 s" in html
    quiet = supervisor_client.get(page, {"start": "2026-11-05"}).content.decode()
    assert 'id="answer-speed"' not in quiet
