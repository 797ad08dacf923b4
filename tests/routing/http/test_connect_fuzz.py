"""Whatever arrives, the Connect endpoints never fail: JSON or a one-line reason,
and the events URL always 200 (HYPOTHESIS_PROFILE=thorough for a long run)."""

import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import TOKEN
from tests.routing.http.test_dial_whom_fuzz import (
    ANSWER,
    names,
    queries,
    raw_queries,
    values,
)

pytestmark = pytest.mark.django_db

CONNECT = [f"/exotel/{TOKEN}/connect/", f"/exotel/{TOKEN}/connect/support/"]
EVENTS = f"/exotel/{TOKEN}/connect-events/"
EVENT_NAMES = ["EventType", "eventtype", "Status", "CallStatus", "DialWhomNumber"]
event_values = st.sampled_from(
    ["Dial", "Ringing", "Answered", "Terminal", "Completed", "Cancelled", "in-progress"]
)
event_queries = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(EVENT_NAMES), event_values), st.tuples(names, values)
    ),
    max_size=12,
)


@pytest.fixture
def roster(make_group, make_agent):
    group = make_group(
        "support", exophones="*", batch_size=2, hold_seconds=0, parallel_ringing=True
    )
    for name in ("Asha", "Ravi", "Meena"):
        make_agent(name, group)


def assert_sound_connect(response) -> None:
    assert response.status_code in (200, 400, 404), response.content[:300]
    if response.status_code == 200:
        assert response["Content-Type"] == "application/json"
        numbers = json.loads(response.content)["destination"]["numbers"]
        assert ANSWER.fullmatch(",".join(numbers)), numbers
    else:
        body = response.content.decode()
        assert body and "\n" not in body  # a one-line reason


@given(path=st.sampled_from(CONNECT), pairs=queries)
def test_connect_never_fails(roster, client, path, pairs):
    assert_sound_connect(client.get(path, QUERY_STRING=urllib.parse.urlencode(pairs)))


@given(path=st.sampled_from(CONNECT), query=raw_queries)
def test_connect_takes_non_utf8_query_strings(roster, client, path, query):
    assert_sound_connect(client.get(path, QUERY_STRING=query))


# Every example routes a call and sends it events: a sixth of the profile's count.
@settings(max_examples=max(10, settings.default.max_examples // 6))
@given(sid=st.sampled_from(["fuzz-a", "fuzz-b"]), pairs=event_queries)
def test_events_always_answer_200(roster, client, sid, pairs):
    assert_sound_connect(client.get(CONNECT[1], {"CallSid": sid}))
    query = urllib.parse.urlencode([("CallSid", sid), *pairs])
    for response in (
        client.get(EVENTS, QUERY_STRING=query),
        client.post(EVENTS, query, content_type="application/x-www-form-urlencoded"),
    ):
        assert response.status_code == 200 and response.content == b""


@given(query=raw_queries)
def test_events_take_non_utf8_query_strings(roster, client, query):
    response = client.get(EVENTS, QUERY_STRING=query)
    assert response.status_code == 200 and response.content == b""
