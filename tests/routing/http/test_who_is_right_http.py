"""DESIGN section 10 over HTTP, with the request shapes Exotel really sends
(../shared/exotel/requests.md): Dial Whom and Programmable Connect alike."""

from urllib.parse import parse_qsl

import pytest

from agents.models import AgentSkill, Caller, Route, Skill
from routing.models import Call, CallResult
from tests.conftest import TOKEN
from tests.routing.http.test_connect import Connect

pytestmark = pytest.mark.django_db

# The first request of a call after an IVR, as logged (numbers national, digits
# quoted, DialWhomNumber empty, deprecated parameters).
FIRST = (
    "CallSid=e12eb6e6fcd920019d7174b60099187v&CallFrom=09901320691"
    "&CallTo=08069891522&Direction=incoming&Created=Wed%2C+31+Jul+2024+16%3A42%3A56"
    "&DialCallDuration=0&StartTime=2024-07-31+16%3A42%3A56"
    "&EndTime=1970-01-01+05%3A30%3A00&CallType=call-attempt&DialWhomNumber="
    "&flow_id=11754&tenant_id=1409&From=09901320691&To=08069891522"
    "&CurrentTime=2024-07-31+16%3A43%3A02&digits=%22215250%22"
)


@pytest.fixture
def menu(make_group, make_agent):
    """One ExoPhone, one group, a route for IVR input 215250 needing Tamil."""
    group = make_group("support", exophones="08069891522", fallback_numbers="")
    asha = make_agent("Asha", group)
    tamil = make_agent("Tamil Selvi", group)
    Skill.objects.create(name="tamil")
    AgentSkill.objects.create(agent=tamil, skill_id="tamil", level=4)
    Route.objects.create(
        slug="tamil",
        group=group,
        needs="tamil:3",
        exophones="+918069891522",
        digits="215250",
    )
    return {"asha": asha, "tamil": tamil}


def dial_whom(client, query: str, slug: str = ""):
    path = f"/exotel/{TOKEN}/dial-whom/" + (f"{slug}/" if slug else "")
    return client.get(path + "?" + query)


def test_real_first_request_takes_the_route_of_its_digits(client, menu):
    response = dial_whom(client, FIRST)
    assert response.status_code == 200
    assert response.content.decode() == str(menu["tamil"].phone)
    call = Call.objects.get()
    assert (call.route.slug, call.needs, call.relax_after) == ("tamil", "tamil:3", None)


def test_real_request_from_a_blocked_caller_is_answered_empty(client, menu):
    Caller.objects.create(number="+919901320691", blocked=True)
    response = dial_whom(client, FIRST)
    assert (response.status_code, response.content) == (200, b"")
    assert Call.objects.get().result == CallResult.BLOCKED


def test_real_request_from_an_owned_caller_rings_the_owner_first(client, menu):
    menu["tamil"].delete()
    Caller.objects.create(number="+919901320691", owner=menu["asha"])
    # The owner goes first whatever the needs; nobody else meets them.
    assert dial_whom(client, FIRST).content.decode() == str(menu["asha"].phone)


def test_a_campaign_call_routes_on_call_from(client, menu):
    """An "outgoing call to a flow": From is the customer, CallFrom the ExoPhone."""
    query = dict(parse_qsl(FIRST, keep_blank_values=True))
    query.update(
        Direction="outbound-api",
        CallFrom="08069891522",
        From="09901320691",
        To="09901320691",
        CallTo="09901320691",
        digits="",
        CustomField="campaign=diwali;route=tamil",
        CallSid="fdb67a2b4b2d057b610a52ef43f81622",
    )
    response = client.get(f"/exotel/{TOKEN}/dial-whom/", query)
    assert response.content.decode() == str(menu["tamil"].phone)
    call = Call.objects.get()
    assert (call.caller, call.exophone, call.direction, call.route.slug) == (
        "+919901320691",
        "+918069891522",
        "outbound-api",
        "tamil",
    )


def test_a_pinned_url_may_name_a_route(client, menu):
    query = FIRST.replace("&digits=%22215250%22", "")
    response = dial_whom(client, query, "tamil")
    assert response.content.decode() == str(menu["tamil"].phone)
    assert dial_whom(client, query.replace("87v", "88v"), "nowhere").status_code == 404


def test_connect_answers_the_same_decisions(menu):
    connect = Connect()
    params = dict(parse_qsl(FIRST, keep_blank_values=True))
    sid = params.pop("CallSid")
    assert connect.numbers(sid, **params) == [str(menu["tamil"].phone)]
    Caller.objects.create(number="+919812345678", blocked=True)
    assert connect.numbers("blocked-call", "tamil", From="09812345678") == []
