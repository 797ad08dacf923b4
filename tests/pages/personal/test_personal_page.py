"""The personal page over HTTP: the link is the key, a bad one is a quiet 404."""

import datetime as dt
import logging

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent, AgentHours, AgentStatus, StatusChange, TimeOff
from agents.personal_links import (
    agent_for_personal_token,
    hash_personal_token,
    issue_personal_token,
)
from routing.models import Attempt, Call, Outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def asha(make_group, make_agent):
    return make_agent("Asha", make_group("support"), phone="+919900000001")


@pytest.fixture
def link(asha):
    return reverse("personal-page", args=[issue_personal_token(agent=asha)])


def test_the_token_is_random_long_and_kept_only_hashed(asha):
    token = issue_personal_token(agent=asha)
    other = issue_personal_token(agent=asha)

    asha.refresh_from_db()
    assert len(token) == 43 and token != other  # 32 random bytes
    assert asha.personal_token_hash == hash_personal_token(other)
    assert token not in asha.personal_token_hash
    assert agent_for_personal_token(other) == asha


def test_regenerating_ends_the_old_link_at_once(asha, client):
    old = reverse("personal-page", args=[issue_personal_token(agent=asha)])
    assert client.get(old).status_code == 200

    issue_personal_token(agent=asha)

    assert client.get(old).status_code == 404


def test_the_page_shows_status_duty_engagement_and_calls_today(asha, link, client):
    now = timezone.now()
    Agent.objects.filter(pk=asha.pk).update(
        status=AgentStatus.BREAK,
        status_reason="lunch",
        status_until=now + dt.timedelta(minutes=30),
        engaged_until=now + dt.timedelta(minutes=4),
        engaged_call_sid="call-today",
    )
    call = Call.objects.create(sid="call-today", caller="+919811111111")
    Attempt.objects.create(
        call=call, agent=asha, number=str(asha.phone), position=1, offered_at=now
    )
    old_call = Call.objects.create(sid="call-old", caller="+919822222222")
    Attempt.objects.create(
        call=old_call,
        agent=asha,
        number=str(asha.phone),
        position=1,
        offered_at=now - dt.timedelta(days=2),
        outcome=Outcome.COMPLETED,
    )

    page = client.get(link).content.decode()

    until = timezone.localtime(now + dt.timedelta(minutes=30))
    assert f"On break until {until:%H:%M}: lunch" in page
    assert "A call holds you" in page
    assert "+919811111111" in page and "+919822222222" not in page
    assert "On duty now" in page  # no hours: always
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_off_duty_with_the_next_hours(asha, link, client):
    now = timezone.localtime(timezone.now(), timezone=dt.UTC)
    TimeOff.objects.create(
        agent=asha,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=1),
    )
    page = client.get(link).content.decode()
    assert "Off duty now." in page and "Your next hours start" in page
    AgentHours.objects.create(
        agent=asha, weekday=0, starts=dt.time(9), ends=dt.time(10)
    )
    assert "Your next hours start" in client.get(link).content.decode()


@pytest.mark.parametrize(
    ("post", "status", "reason", "minutes"),
    [
        pytest.param({"status": "available"}, "available", "", None, id="available"),
        pytest.param(
            {"status": "break", "reason": "tea", "minutes": "15"},
            "break",
            "tea",
            15,
            id="break-15",
        ),
        pytest.param(
            {"status": "break", "reason": "tea", "minutes": "60"},
            "break",
            "tea",
            60,
            id="break-60",
        ),
        pytest.param(
            {"status": "break", "reason": "doctor", "minutes": ""},
            "break",
            "doctor",
            None,
            id="break-until-changed",
        ),
        pytest.param({"status": "offline"}, "offline", "", None, id="offline"),
    ],
)
def test_the_agent_sets_their_status(asha, link, client, post, status, reason, minutes):
    Agent.objects.filter(pk=asha.pk).update(
        status=AgentStatus.OFFLINE if status != "offline" else AgentStatus.AVAILABLE
    )
    before = timezone.now()

    response = client.post(link, post)

    assert (response.status_code, response["Location"]) == (302, link)
    asha.refresh_from_db()
    assert (asha.status, asha.status_reason) == (status, reason)
    if minutes:
        assert abs(
            asha.status_until - before - dt.timedelta(minutes=minutes)
        ) < dt.timedelta(seconds=5)
    else:
        assert asha.status_until is None
    change = StatusChange.objects.get(agent=asha)
    assert (change.via, change.new_status) == ("page", status)
    assert "You are now" in client.get(link).content.decode()


@pytest.mark.parametrize(
    "post",
    [{"status": "asleep"}, {"status": "break", "minutes": "45"}, {}],
    ids=["unknown-status", "length-not-offered", "empty"],
)
def test_a_bad_form_changes_nothing(asha, link, client, post):
    response = client.post(link, post)
    assert response.status_code == 302
    assert StatusChange.objects.count() == 0
    assert "Choose available, on break or offline." in client.get(link).content.decode()


def test_an_inactive_agent_sees_the_page_but_cannot_change(asha, link, client):
    Agent.objects.filter(pk=asha.pk).update(active=False)
    page = client.get(link).content.decode()
    assert "Your profile is inactive" in page and 'value="break"' not in page

    client.post(link, {"status": "offline"})

    asha.refresh_from_db()
    assert asha.status == AgentStatus.AVAILABLE
    assert StatusChange.objects.count() == 0


def test_a_break_never_undoes_the_engagement(asha, link, client):
    held = timezone.now() + dt.timedelta(minutes=5)
    Agent.objects.filter(pk=asha.pk).update(engaged_until=held, engaged_call_sid="c1")
    client.post(link, {"status": "break"})
    asha.refresh_from_db()
    assert (asha.status, asha.engaged_until, asha.engaged_call_sid) == (
        "break",
        held,
        "c1",
    )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param("A" * 43, "unknown or revoked token", id="unknown"),
        pytest.param("short", "malformed token", id="malformed"),
        pytest.param("A" * 500, "malformed token", id="very-long"),
        pytest.param("A" * 42 + "%21", "malformed token", id="bad-character"),
    ],
)
def test_a_bad_token_is_a_quiet_404(asha, client, caplog, token, reason):
    caplog.set_level(logging.INFO)
    response = client.get(f"/me/{token}/")
    response_post = client.post(f"/me/{token}/", {"status": "offline"})

    assert (response.status_code, response_post.status_code) == (404, 404)
    assert "does not work" in response.content.decode()
    asha.refresh_from_db()
    assert asha.status == AgentStatus.AVAILABLE
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [f"personal page 404: {reason}"] * 2


def test_a_longer_path_is_a_quiet_404(asha, link, client, caplog):
    caplog.set_level(logging.INFO)
    assert client.get(link + "extra/").status_code == 404
    assert [r.getMessage() for r in caplog.records] == [
        "personal page 404: malformed link"
    ]


def test_the_token_never_reaches_a_log(asha, link, caplog):
    """Django logs the path of 4xx answers and CSRF rejections: not here."""
    caplog.set_level(logging.DEBUG)
    token = link.split("/")[2]
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(link, {"status": "offline"}).status_code == 403
    assert strict.put(link).status_code == 403  # unsafe: the CSRF check first
    assert Client().put(link).status_code == 405
    assert strict.get(link).status_code == 200
    strict.post(link, {"status": "break"})  # the page's own form, with the cookie
    asha.refresh_from_db()
    assert (
        asha.status == AgentStatus.AVAILABLE
    )  # a POST without the token changes nothing

    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert token not in logged
    assert "CSRF check failed" in logged


def test_the_page_works_with_the_csrf_check(asha, link):
    strict = Client(enforce_csrf_checks=True)
    strict.get(link)
    csrf = strict.cookies["csrftoken"].value
    response = strict.post(link, {"status": "offline", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    asha.refresh_from_db()
    assert asha.status == AgentStatus.OFFLINE


def test_the_page_is_not_cached_and_sends_its_link_to_no_other_site(asha, link, client):
    response = client.get(link)
    assert "no-store" in response["Cache-Control"]
    assert 'name="referrer" content="same-origin"' in response.content.decode()
