"""purge_calls: old calls go with their attempts and requests, in batches."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from routing.models import Attempt, Call, WebhookRequest
from routing.retention import purge_calls

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def make_call(sid, *, days_ago, attempts=2):
    moment = NOW - dt.timedelta(days=days_ago)
    call = Call.objects.create(sid=sid, first_seen_at=moment)
    for position in range(1, attempts + 1):
        Attempt.objects.create(
            call=call, number=f"+91990000000{position}", position=position
        )
        WebhookRequest.objects.create(
            call=call,
            call_sid=sid,
            endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
            status_code=200,
            duration_ms=1.0,
            received_at=moment,
        )
    return call


def make_rejected_request(*, days_ago):
    return WebhookRequest.objects.create(
        call_sid="",
        endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
        status_code=400,
        notes="missing CallSid",
        duration_ms=1.0,
        received_at=NOW - dt.timedelta(days=days_ago),
    )


@pytest.fixture
def log():
    old = [make_call(f"old-{n}", days_ago=40) for n in range(5)]
    new = make_call("new", days_ago=1)
    make_rejected_request(days_ago=40)
    recent_rejected = make_rejected_request(days_ago=1)
    return old, new, recent_rejected


def test_purge_deletes_old_calls_attempts_and_requests_in_batches(log):
    old, new, recent_rejected = log

    counts = purge_calls(before=NOW - dt.timedelta(days=30), batch_size=2)

    assert (counts.calls, counts.attempts, counts.requests) == (5, 10, 11)
    assert list(Call.objects.all()) == [new]
    assert set(Attempt.objects.values_list("call__sid", flat=True)) == {"new"}
    assert set(WebhookRequest.objects.values_list("pk", flat=True)) == {
        *new.requests.values_list("pk", flat=True),
        recent_rejected.pk,
    }


def test_dry_run_counts_and_changes_nothing(log):
    counts = purge_calls(before=NOW - dt.timedelta(days=30), dry_run=True)

    assert (counts.calls, counts.attempts, counts.requests) == (5, 10, 11)
    assert Call.objects.count() == 6
    assert Attempt.objects.count() == 12
    assert WebhookRequest.objects.count() == 14


def test_command_prints_counts(log):
    out = StringIO()

    call_command("purge_calls", "--older-than", "30", "--batch-size", "3", stdout=out)

    assert out.getvalue().strip() == (
        "Deleted 5 calls, 10 attempts, 11 webhook requests."
    )
    assert Call.objects.count() == 1


def test_command_dry_run(log):
    out = StringIO()

    call_command("purge_calls", "--older-than", "30", "--dry-run", stdout=out)

    assert out.getvalue().startswith("Would delete 5 calls")
    assert Call.objects.count() == 6


def test_command_rejects_zero_days():
    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("purge_calls", "--older-than", "0")
