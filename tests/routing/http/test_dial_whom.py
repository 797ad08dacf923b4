"""Whole calls over HTTP, as Exotel performs them."""

import pytest

from routing.models import Attempt, Call, Outcome, WebhookRequest
from tests.conftest import TOKEN
from tests.routing.exotel.test_requests import FIRST_REQUEST

pytestmark = pytest.mark.django_db

MAX_STEPS = 20


def walk(exotel, sid, group=None, **first_params):
    """Dial every number until the answer is empty; return them in order."""
    dialled = []
    answer = exotel.numbers(sid, group, **first_params)
    for _ in range(MAX_STEPS):
        if not answer:
            return dialled
        number = answer[0]
        dialled.append(number)
        # Exotel reports the number as it dialled it: national, with a 0.
        national = "0" + number.removeprefix("+91")
        answer = exotel.numbers(
            sid,
            group,
            DialWhomNumber=national,
            DialCallStatus="no-answer",
            CallType="incomplete",
            ForwardedFrom="null",
            ProcessStatus="null",
        )
    raise AssertionError(f"the call never ended: dialled {dialled}")


def test_whole_call_walks_every_agent_once(exotel, make_group, make_agent):
    group = make_group()
    agents = [make_agent(name, group) for name in ["Asha", "Bala", "Chen"]]
    assert walk(exotel, "e12eb6e6fcd920019d7174b60099187v", "support") == [
        str(agent.phone) for agent in agents
    ]


def test_whole_call_with_batches(exotel, make_group, make_agent):
    group = make_group(batch_size=2, fallback_numbers="09812345678")
    agents = [make_agent(name, group) for name in ["A", "B", "C"]]
    first = exotel.numbers("sid-batch", "support")
    assert first == [str(agents[0].phone), str(agents[1].phone)]
    dialled = walk(exotel, "sid-batch", "support")
    assert dialled == [str(a.phone) for a in agents] + ["+919812345678"]


def test_realistic_first_request_on_unpinned_url(exotel, make_group, make_agent):
    group = make_group(exophones="08069891522", digits="215250")
    make_group("default", exophones="*")
    agent = make_agent("Asha", group)
    response = exotel.client.get(f"/exotel/{TOKEN}/dial-whom/", FIRST_REQUEST)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response.content.decode() == str(agent.phone)
    call = Call.objects.get()
    assert (call.caller, call.exophone, call.digits) == (
        "+919901320691",
        "+918069891522",
        "215250",
    )


def test_answer_format_is_e164_comma_separated(exotel, make_group, make_agent):
    group = make_group(batch_size=2)
    make_agent("A", group, phone="09900000001")
    make_agent("B", group, phone="+91 98000 00002")
    response = exotel.dial_whom("sid1", "support")
    assert response.content == b"+919900000001,+919800000002"


def test_empty_answer_when_no_one_is_left(exotel, make_group):
    make_group()
    response = exotel.dial_whom("sid1", "support")
    assert (response.status_code, response.content) == (200, b"")


def test_caller_hangup_frees_the_agent(exotel, make_group, make_agent):
    group = make_group()
    agent = make_agent("Asha", group)
    sid = "d96421addce69e24bdc7ce5880d1162l"
    exotel.numbers(sid, "support")
    assert exotel.numbers("other", "support") == []
    params = {"DialWhomNumber": str(agent.phone), "DialCallStatus": "canceled"}
    assert exotel.numbers(sid, "support", CallType="client-hangup", **params) == []
    assert exotel.numbers("other", "support") == [str(agent.phone)]


def test_passthru_after_connect(exotel, make_group, make_agent):
    group = make_group()
    agent = make_agent("Asha", group, phone="09999999999")
    sid = "23c162077629863c1a2d7f29263a162m"
    exotel.numbers(sid, "support")
    response = exotel.passthru(
        sid,
        CallFrom="09999999991",
        CallType="completed",
        DialCallStatus="completed",
        DialCallDuration="183",
        DialWhomNumber="09999999999",
    )
    assert response.status_code == 200
    call = Call.objects.get(sid=sid)
    assert (call.answered_by, call.talk_seconds) == (agent, 183)


def test_passthru_for_unknown_call_answers_200(exotel):
    assert exotel.passthru("never-seen").status_code == 200
    assert WebhookRequest.objects.get().notes == "unknown CallSid: nothing to record"


@pytest.mark.parametrize("path", ["dial-whom/", "dial-whom/support/", "passthru/"])
def test_wrong_token_is_404_and_writes_nothing(exotel, make_group, make_agent, path):
    make_agent("Asha", make_group())
    response = exotel.client.get(f"/exotel/wrong/{path}", {"CallSid": "abc"})
    assert response.status_code == 404
    assert not Call.objects.exists()
    assert not WebhookRequest.objects.exists()


def test_previous_token_accepted_during_rotation(exotel, make_group, settings):
    make_group()
    settings.DIALWHOM_WEBHOOK_TOKENS = ["new-token", TOKEN]
    assert exotel.dial_whom("abc", "support").status_code == 200


@pytest.mark.parametrize("query", [{}, {"CallSid": "has space"}, {"CallSid": "x" * 65}])
def test_malformed_request_is_400_with_reason(exotel, make_group, query):
    make_group()
    response = exotel.client.get(f"/exotel/{TOKEN}/dial-whom/support/", query)
    assert response.status_code == 400
    assert b"CallSid" in response.content
    assert b"\n" not in response.content
    logged = WebhookRequest.objects.get()
    assert (logged.status_code, logged.notes) == (400, response.content.decode())


def test_unknown_group_is_404(exotel, make_group):
    make_group()
    response = exotel.dial_whom("abc", "nope")
    assert response.status_code == 404
    assert not Call.objects.exists()


def test_post_is_rejected(exotel, make_group):
    make_group()
    response = exotel.client.post(f"/exotel/{TOKEN}/dial-whom/support/?CallSid=a")
    assert response.status_code == 405


def test_every_request_is_logged_with_answer(exotel, make_group, make_agent):
    group = make_group()
    agent = make_agent("Asha", group)
    exotel.numbers("sid1", "support", flow_id="1", **{"Stream[RecordingUrl]": "x"})
    logged = WebhookRequest.objects.get()
    assert logged.call.sid == "sid1"
    assert logged.response_body == str(agent.phone)
    assert logged.params["flow_id"] == "1"
    assert logged.group_slug == "support"
    assert logged.duration_ms > 0
    assert Attempt.objects.get().reason.startswith("support: tier 1")


def test_healthz(client):
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


@pytest.mark.parametrize(
    "path",
    [
        f"/exotel/{TOKEN}/dial-whom",
        f"/exotel/{TOKEN}/dial-whom/support",
        f"/exotel/{TOKEN}/passthru",
        "/healthz/",
    ],
)
def test_trailing_slash_is_optional(exotel, make_group, path):
    make_group(exophones="*")
    response = exotel.client.get(path, {"CallSid": "abc"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "report", "note"),
    [
        (
            "dial-whom",
            {"DialWhomNumber": "09900000001", "DialCallStatus": "banana"},
            "DialCallStatus 'banana' unknown: not recorded",
        ),
        (
            "passthru",
            {"DialWhomNumber": "09000000009", "DialCallStatus": "busy"},
            "+919000000009 was never offered for this call: not recorded",
        ),
        (
            "dial-whom",
            {"DialWhomNumber": "not-a-number", "DialCallStatus": "busy"},
            "DialWhomNumber 'not-a-number' is no phone number: not recorded",
        ),
    ],
    ids=["unknown-status", "number-never-offered", "unreadable-number"],
)
def test_an_ignored_report_is_noted_on_the_request_log(
    exotel, make_group, make_agent, endpoint, report, note
):
    make_agent("Asha", make_group(), phone="+919900000001")
    assert exotel.numbers("sid-ignored", "support") == ["+919900000001"]
    if endpoint == "dial-whom":
        response = exotel.dial_whom("sid-ignored", "support", **report)
    else:
        response = exotel.passthru("sid-ignored", **report)
    assert response.status_code == 200
    logged = WebhookRequest.objects.order_by("pk").last()
    assert logged.notes.startswith(note), logged.notes
    if endpoint == "dial-whom":  # nothing recorded: the offer is still pending
        assert Attempt.objects.get().outcome == Outcome.PENDING


def test_a_repeated_report_says_the_offer_was_already_closed(
    exotel, make_group, make_agent
):
    make_agent("Asha", make_group(), phone="+919900000001")
    exotel.numbers("sid-repeat", "support")
    report = {"DialWhomNumber": "09900000001", "DialCallStatus": "busy"}
    exotel.dial_whom("sid-repeat", "support", **report)
    exotel.dial_whom("sid-repeat", "support", **report)
    logged = WebhookRequest.objects.order_by("pk").last()
    assert logged.notes.startswith("+919900000001 was already busy: not recorded")


def test_healthz_answers_head_as_get(client):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("post", f"/exotel/{TOKEN}/dial-whom/support/", "GET"),
        ("put", f"/exotel/{TOKEN}/passthru/", "GET"),
        ("head", f"/exotel/{TOKEN}/dial-whom/", "GET"),
        ("post", f"/exotel/{TOKEN}/connect/", "GET"),
        ("put", f"/exotel/{TOKEN}/connect-events/", "GET, POST"),
        ("post", f"/exotel/{TOKEN}/agent-status/", "GET"),
        ("post", "/exotel/wrong-token/dial-whom/", "GET"),
    ],
)
def test_405_on_exotel_paths_is_one_plain_line(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "text/plain"
    assert response["Allow"] == allowed
    if method != "head":
        assert response.content.decode() == f"method not allowed: {allowed} only"
