"""Whatever arrives in the query string, the endpoints answer 200 with numbers or
a 4xx with a reason, never a 500 (HYPOTHESIS_PROFILE=thorough for a long run).
"""

import re
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.models import WebhookRequest
from tests.conftest import TOKEN

pytestmark = pytest.mark.django_db

ANSWER = re.compile(r"(\+[1-9]\d{5,14}(,\+[1-9]\d{5,14})*)?")
NAMES = [
    "CallSid",
    "callsid",
    "CallFrom",
    "Callfrom",
    "From",
    "CallTo",
    "To",
    "CallStatus",
    "Direction",
    "Created",
    "StartTime",
    "EndTime",
    "CurrentTime",
    "CallType",
    "DialWhomNumber",
    "DialCallStatus",
    "DialCallDuration",
    "digits",
    "CustomField",
    "RecordingUrl",
    "flow_id",
    "tenant_id",
    "numbers",
    "ForwardedFrom",
    "Stream[RecordingUrl]",
]
call_sids = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    st.sampled_from(["e12eb6e6fcd920019d7174b60099187v", "fuzz-call-1", "fuzz-call-2"]),
    st.text(max_size=80),
)
phones = st.one_of(
    st.from_regex(r"(\+|00|0)?(91)?[0-9]{0,15}", fullmatch=True),
    st.sampled_from(["09901320691", "+919900000001", "919900000002", "null", ""]),
    st.from_regex(r"[+0-9 ()\-.]{0,30}", fullmatch=True),
)
values = st.one_of(
    phones,
    call_sids,
    st.sampled_from(
        ["completed", "busy", "no-answer", "failed", "canceled", "NULL", '"2"', '""']
    ),
    st.integers().map(str),
    st.text(),  # any unicode, control characters and NUL included
    st.text(min_size=1, max_size=3).map(lambda text: text * 5000),  # huge
)
names = st.one_of(st.sampled_from(NAMES), st.text(max_size=30))
# Repeated and missing parameters: any list of pairs, in any order.
queries = st.lists(st.tuples(names, values), max_size=12)
# Query strings that are not valid UTF-8: percent-escaped bytes and raw bytes (as
# a WSGI server hands them over, decoded as latin-1).
raw_queries = st.one_of(
    st.binary(max_size=300).map(lambda data: urllib.parse.quote_from_bytes(data)),
    st.binary(max_size=300).map(lambda data: data.decode("latin-1")),
    st.lists(st.tuples(st.sampled_from(NAMES), st.binary(max_size=40)), max_size=8).map(
        lambda pairs: "&".join(
            f"{name}={urllib.parse.quote_from_bytes(data)}" for name, data in pairs
        )
    ),
)
PATHS = [
    f"/exotel/{TOKEN}/dial-whom/",
    f"/exotel/{TOKEN}/dial-whom/support/",
    f"/exotel/{TOKEN}/passthru/",
]


@pytest.fixture
def roster(make_group, make_agent):
    group = make_group("support", exophones="*", batch_size=2, hold_seconds=0)
    for name in ("Asha", "Ravi", "Meena"):
        make_agent(name, group)


def assert_sound(response) -> None:
    assert response.status_code in (200, 400, 404), response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    if response.status_code == 200:
        assert ANSWER.fullmatch(body), body[:300]
    else:
        assert body and "\n" not in body  # a one-line reason


@given(path=st.sampled_from(PATHS), pairs=queries)
def test_generated_parameters_never_fail(roster, client, path, pairs):
    response = client.get(path, QUERY_STRING=urllib.parse.urlencode(pairs))

    assert_sound(response)


@given(path=st.sampled_from(PATHS), query=raw_queries)
def test_non_utf8_query_strings_never_fail(roster, client, path, query):
    response = client.get(path, QUERY_STRING=query)

    assert_sound(response)


# Every example here routes three requests for real: a sixth of the profile's count.
@settings(max_examples=max(10, settings.default.max_examples // 6))
@given(sid=st.sampled_from(["fuzz-a", "fuzz-b"]), pairs=queries)
def test_one_call_asked_again_and_again_stays_sound(roster, client, sid, pairs):
    """Many requests for the same calls: settled outcomes, repeats, passthrus."""
    for path in PATHS:
        response = client.get(
            path, QUERY_STRING=urllib.parse.urlencode([("CallSid", sid), *pairs])
        )
        assert_sound(response)


@given(token=st.text(min_size=1, max_size=80).filter(lambda text: text != TOKEN))
def test_wrong_token_is_404_and_writes_nothing(client, token):
    before = WebhookRequest.objects.count()
    quoted = urllib.parse.quote(token, safe="")

    response = client.get(f"/exotel/{quoted}/dial-whom/", {"CallSid": "x"})

    assert response.status_code == 404
    assert WebhookRequest.objects.count() == before


slugs = st.one_of(
    st.from_regex(r"[-\w]{1,200}", fullmatch=True),
    st.text(min_size=1, max_size=300),
)


@given(slug=slugs, pairs=queries)
def test_generated_group_slugs_never_fail(roster, client, slug, pairs):
    quoted = urllib.parse.quote(slug, safe="")

    response = client.get(
        f"/exotel/{TOKEN}/dial-whom/{quoted}/",
        QUERY_STRING=urllib.parse.urlencode([("CallSid", "fuzz-slug"), *pairs]),
    )

    assert_sound(response)


@pytest.mark.parametrize("length", [51, 200, 5000])
def test_slug_longer_than_any_column_is_an_unknown_group(roster, client, length):
    """On PostgreSQL a 51-character slug reached varchar(50): a 500."""
    response = client.get(f"/exotel/{TOKEN}/dial-whom/{'x' * length}/?CallSid=abc")

    assert response.status_code == 404
    assert_sound(response)


@pytest.mark.parametrize("path", PATHS)
def test_more_fields_than_django_allows_is_a_one_line_400(roster, client, path):
    query = "&".join(f"f{n}=1" for n in range(1001)) + "&CallSid=abc"

    response = client.get(path, QUERY_STRING=query)

    assert response.status_code == 400
    assert_sound(response)
