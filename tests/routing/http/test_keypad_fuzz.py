"""Whatever reaches the keypad endpoint and the personal page, never a 500."""

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.models import Agent
from agents.personal_links import issue_personal_token
from tests.conftest import TOKEN
from tests.routing.http.test_dial_whom_fuzz import queries, raw_queries

pytestmark = pytest.mark.django_db

PATH = f"/exotel/{TOKEN}/agent-status/"


@pytest.fixture
def agents(make_agent):
    make_agent("Asha", phone="+919901320691")
    make_agent("Ravi", phone="+919900000001", active=False)


def assert_sound(response) -> None:
    assert response.status_code in (200, 302, 400), response.content[:300]
    if response.status_code == 400:
        body = response.content.decode()
        assert body and "\n" not in body  # a one-line reason
    else:
        assert response.content == b""
    if response.status_code == 302:
        assert response["Location"] == PATH


agent_pairs = st.lists(
    st.tuples(
        st.sampled_from(["From", "CallFrom", "digits"]),
        st.sampled_from(["09901320691", "9900000001", '"1"', '"215"', '"3"', '"9"']),
    ),
    max_size=4,
)


@given(pairs=queries, known=agent_pairs)
def test_generated_parameters_never_fail(agents, client, pairs, known):
    query = urllib.parse.urlencode([("CallSid", "fuzz-1"), *known, *pairs])
    assert_sound(client.get(PATH, QUERY_STRING=query))


@given(query=raw_queries)
def test_non_utf8_query_strings_never_fail(agents, client, query):
    assert_sound(client.get(PATH, QUERY_STRING=query))


@given(token=st.text(min_size=1, max_size=120))
def test_any_personal_token_is_a_404(agents, client, token):
    quoted = urllib.parse.quote(token, safe="")
    assert client.get(f"/me/{quoted}/").status_code in (404, 301)


@given(
    data=st.dictionaries(
        st.sampled_from(["status", "reason", "minutes", "other"]),
        st.one_of(st.text(), st.sampled_from(["break", "offline", "15", "60"])),
    )
)
def test_any_personal_form_is_answered(agents, client, data):
    asha = Agent.objects.get(name="Asha")
    link = f"/me/{issue_personal_token(agent=asha)}/"
    response = client.post(link, data)
    assert response.status_code == 302
    assert response["Location"] == link
