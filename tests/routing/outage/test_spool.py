"""Outcomes that arrive during an outage are kept on disk and replayed once, in order."""

import fcntl
import json
import os
import time
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

from agents.models import Agent
from routing.calls import services
from routing.calls.requestlog import Received
from routing.exotel.requests import parse_exotel_request
from routing.models import Attempt, Call, CallResult, Outcome, WebhookRequest
from routing.outage import degraded, spool

pytestmark = pytest.mark.django_db


@pytest.fixture
def agents(make_group, make_agent):
    group = make_group("support", hold_seconds=300, wrapup_seconds=0)
    return [make_agent(name, group) for name in ("Asha", "Ravi")]


def received(endpoint: str, **params: str) -> Received:
    return Received.of(endpoint, params, time.perf_counter())


def spool_dial_whom(group_slug: str, **params: str) -> degraded.LastKnownAnswer:
    return degraded.answer_from_last_known(
        received=received("dial-whom", **params),
        request=parse_exotel_request(params),
        group_slug=group_slug,
    )


def spool_passthru(sid: str, agent: Agent, status: str = "completed"):
    params = {"CallSid": sid, "DialWhomNumber": str(agent.phone)}
    if status:
        params["DialCallStatus"] = status
    degraded.spool_call_end(received=received("passthru", **params))


def spool_files(settings) -> list:
    return sorted(settings.DIALWHOM_SPOOL_DIR.glob("*.jsonl"))


def records(settings) -> list[dict]:
    return [
        json.loads(line)
        for path in spool_files(settings)
        for line in path.read_text().splitlines()
    ]


def test_passthru_during_outage_is_spooled_then_frees_the_agent(
    exotel, agents, settings
):
    asha = agents[0]
    assert exotel.numbers("call-1", "support") == [str(asha.phone)]
    spool_passthru("call-1", asha)
    (record,) = records(settings)
    assert record["endpoint"] == "passthru" and record["params"]["CallSid"] == "call-1"

    report = spool.replay_pending()

    assert (report.applied, report.conflicts, report.duplicates) == (1, 0, 0)
    call = Call.objects.get(sid="call-1")
    assert call.result == CallResult.ANSWERED and call.ended_at is not None
    assert Attempt.objects.get(call=call).outcome == Outcome.COMPLETED
    asha.refresh_from_db()
    assert asha.engaged_until <= timezone.now()
    logged = WebhookRequest.objects.get(call=call, endpoint="passthru")
    assert logged.degraded and logged.notes.startswith(f"spool {record['id']}")
    assert spool_files(settings) == []  # all in the database: file deleted


def test_a_record_is_never_applied_twice(exotel, agents, settings):
    exotel.numbers("call-1", "support")
    spool_passthru("call-1", agents[0])
    (path,) = spool_files(settings)
    kept = path.read_bytes()
    spool.replay_pending()
    # A replayer that died before deleting its file, or a copy of it elsewhere.
    path.write_bytes(kept)

    report = spool.replay_pending()

    assert (report.applied, report.duplicates) == (0, 1)
    assert WebhookRequest.objects.filter(endpoint="passthru").count() == 1


def test_replay_that_conflicts_is_recorded_not_forced(exotel, agents, settings):
    asha, ravi = agents
    exotel.numbers("call-1", "support")
    spool_passthru("call-1", asha, "completed")
    # Meanwhile (another server reached the database) Exotel reported Asha
    # unanswered and Ravi was offered.
    assert exotel.numbers(
        "call-1", "support", DialWhomNumber=str(asha.phone), DialCallStatus="no-answer"
    ) == [str(ravi.phone)]

    report = spool.replay_pending()

    assert report.conflicts == 1
    assert Attempt.objects.get(agent=asha).outcome == Outcome.NO_ANSWER  # kept
    logged = WebhookRequest.objects.get(endpoint="passthru")
    assert "conflict" in logged.notes and "no-answer" in logged.notes
    # The call's end is still recorded: Ravi's pending offer is closed and freed.
    assert Attempt.objects.get(agent=ravi).outcome == Outcome.CANCELED


def test_degraded_answers_reach_the_call_log_marked_degraded(
    exotel, agents, settings, tmp_path
):
    settings.DIALWHOM_LAST_KNOWN_DIR = tmp_path / "last-known"
    (tmp_path / "last-known").mkdir()
    (tmp_path / "last-known" / "support.txt").write_text("+919900000001")
    answer = spool_dial_whom("support", CallSid="new-call")
    assert answer.numbers == ["+919900000001"]
    spool.replay_pending()

    logged = WebhookRequest.objects.get(call_sid="new-call")
    assert logged.degraded and logged.endpoint == "dial-whom"
    assert logged.response_body == "+919900000001" and logged.group_slug == "support"
    assert "last-known" in logged.notes


def test_records_of_all_files_replay_in_the_order_received(exotel, agents, settings):
    exotel.numbers("call-1", "support")
    exotel.numbers("call-2", "support")
    spool_passthru("call-2", agents[1])
    spool_passthru("call-1", agents[0])
    first, second = records(settings)
    # The later record in a file that sorts first (another process's).
    settings.DIALWHOM_SPOOL_DIR.joinpath("spool-a.jsonl").write_text(
        json.dumps(second) + "\n"
    )
    settings.DIALWHOM_SPOOL_DIR.joinpath("spool-z.jsonl").write_text(
        json.dumps(first) + "\n"
    )
    for path in spool_files(settings):
        if path.name not in {"spool-a.jsonl", "spool-z.jsonl"}:
            path.unlink()

    spool.replay_pending()

    replayed = WebhookRequest.objects.filter(endpoint="passthru").order_by("pk")
    assert [row.call_sid for row in replayed] == ["call-2", "call-1"]


def test_a_file_being_written_is_left_for_the_next_round(exotel, agents, settings):
    exotel.numbers("call-1", "support")
    spool_passthru("call-1", agents[0])
    (path,) = spool_files(settings)
    descriptor = os.open(path, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        assert spool.replay_pending().applied == 0
    finally:
        os.close(descriptor)

    assert spool.replay_pending().applied == 1


def test_torn_last_line_is_ignored(exotel, agents, settings):
    exotel.numbers("call-1", "support")
    spool_passthru("call-1", agents[0])
    (path,) = spool_files(settings)
    with path.open("a") as stream:
        stream.write('{"id": "torn", "endpoint": "pass')  # killed mid-write

    report = spool.replay_pending()

    assert (report.applied, report.unreadable) == (1, 0)


def test_spool_is_bounded(agents, settings):
    settings.DIALWHOM_SPOOL_MAX_BYTES = 400
    spool_passthru("call-1", agents[0])
    spool_passthru("call-2", agents[0])

    assert len(records(settings)) == 1
    assert spool_files(settings)[0].stat().st_size <= 400


def test_requests_without_a_valid_callsid_are_not_spooled(exotel, agents, settings):
    def unreachable(**kwargs):
        raise OperationalError("connection refused")

    with mock.patch.object(services, "record_call_end", unreachable):
        response = exotel.passthru("bad sid!")

    assert response.status_code == 400
    assert records(settings) == []


def test_writer_starts_a_new_file_after_a_replayer_took_its_own(
    exotel, agents, settings
):
    exotel.numbers("call-1", "support")
    exotel.numbers("call-2", "support")
    spool_passthru("call-1", agents[0])
    spool.replay_pending()
    spool_passthru("call-2", agents[1])

    assert [record["params"]["CallSid"] for record in records(settings)] == ["call-2"]
    assert spool.replay_pending().applied == 1
    assert spool.pending_records() == 0


def test_follow_up_outcome_is_replayed_without_claiming_anyone(
    exotel, agents, settings
):
    asha, _ = agents
    exotel.numbers("call-1", "support")
    spool_dial_whom(
        "support",
        CallSid="call-1",
        DialWhomNumber=str(asha.phone),
        DialCallStatus="no-answer",
    )

    report = spool.replay_pending()

    assert report.applied == 1
    (attempt,) = Attempt.objects.filter(call__sid="call-1")  # nobody new offered
    assert attempt.outcome == Outcome.NO_ANSWER
    logged = WebhookRequest.objects.get(call_sid="call-1", degraded=True)
    assert logged.call == attempt.call and "no-answer recorded" in logged.notes
