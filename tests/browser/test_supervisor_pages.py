"""A supervisor in a real browser: edits the roster, sees the preview and board change."""

import re

import pytest
from django.contrib.auth import get_user_model

from agents.models import Agent, AgentGroup, AgentStatus, Membership
from routing.models import Call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "browser-test-token"
PASSWORD = "a-long-browser-password"


@pytest.fixture
def roster(settings):
    settings.DIALWHOM_WEBHOOK_TOKENS = [TOKEN]
    supervisor = get_user_model().objects.create_user(
        "sunita", password=PASSWORD, is_staff=True
    )
    support = AgentGroup.objects.create(slug="support", name="Support", batch_size=1)
    sales = AgentGroup.objects.create(slug="sales", name="Sales")
    support.supervisors.add(supervisor)
    agents = {}
    for position, (name, phone, group) in enumerate(
        [
            ("Asha", "+919800000001", support),
            ("Bala", "+919800000002", support),
            ("Chitra", "+919800000003", sales),
        ],
        start=1,
    ):
        agents[name] = Agent.objects.create(name=name, phone=phone)
        Membership.objects.create(agent=agents[name], group=group, position=position)
    return agents


def log_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "sunita")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def first_number(page) -> str:
    return page.inner_text("#preview-numbers tbody tr:first-child td:nth-child(3)")


def test_supervisor_edits_the_roster_and_sees_the_preview_change(
    page, live_server, roster, screenshot
):
    log_in(page, live_server)
    assert page.locator("#supervisor-tools").is_visible()
    screenshot("01-admin-index")

    preview = f"{live_server.url}/admin/supervisor/groups/support/preview/"
    page.goto(preview)
    assert first_number(page) == "Asha"
    screenshot("02-preview-before")

    # Put Asha on break in the roster admin, as a supervisor does.
    page.goto(f"{live_server.url}/admin/agents/agent/{roster['Asha'].pk}/change/")
    page.select_option("#id_status", AgentStatus.BREAK)
    page.fill("#id_status_reason", "lunch")
    screenshot("03-agent-admin-on-break")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/agents/agent/(\?.*)?$"))

    page.goto(preview)
    assert first_number(page) == "Bala"
    asha = page.locator(".preview-members tr[data-agent=Asha]")
    assert "on break: lunch" in asha.inner_text()
    screenshot("04-preview-after-break")

    # Another group's pages are out of reach, even by editing the URL.
    response = page.goto(f"{live_server.url}/admin/supervisor/groups/sales/preview/")
    assert response.status == 404


def test_board_shows_status_changes(page, live_server, roster, screenshot):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/supervisor/groups/support/board/")
    asha = page.locator("#board tr[data-agent=Asha]")
    asha.locator("input[name=reason]").fill("training")
    asha.get_by_role("button", name="Offline").click()
    page.wait_for_load_state()
    asha = page.locator("#board tr[data-agent=Asha]")
    assert "Offline" in asha.locator("td.status").inner_text()
    assert "training" in asha.locator("td.status").inner_text()
    assert Agent.objects.get(name="Asha").status == AgentStatus.OFFLINE
    screenshot("05-board-after-click")

    # A change made elsewhere reaches the open board without a reload.
    page.evaluate("window.stillTheSamePage = true")
    Agent.objects.filter(name="Bala").update(
        status=AgentStatus.BREAK, status_reason="tea"
    )
    bala_status = page.locator("#board tr[data-agent=Bala] td.status")
    bala_status.filter(has_text="tea").wait_for(timeout=15_000)
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot("06-board-refreshed")


def test_call_timeline_coverage_and_report(page, live_server, roster, screenshot):
    # A call through the real endpoint: offered to Bala (Asha is offline), no answer,
    # then Asha; the passthru reports that she answered.
    Agent.objects.filter(name="Asha").update(status=AgentStatus.OFFLINE)
    dial_whom = f"{live_server.url}/exotel/{TOKEN}/dial-whom/support/"
    answer = page.request.get(dial_whom, params={"CallSid": "browser-call-1"})
    assert answer.text() == "+919800000002"
    Agent.objects.filter(name="Asha").update(status=AgentStatus.AVAILABLE)
    answer = page.request.get(
        dial_whom,
        params={
            "CallSid": "browser-call-1",
            "DialWhomNumber": "+919800000002",
            "DialCallStatus": "no-answer",
        },
    )
    assert answer.text() == "+919800000001"
    page.request.get(
        f"{live_server.url}/exotel/{TOKEN}/passthru/",
        params={
            "CallSid": "browser-call-1",
            "DialWhomNumber": "+919800000001",
            "DialCallStatus": "completed",
            "DialCallDuration": "42",
        },
    )
    call = Call.objects.get(sid="browser-call-1")

    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/supervisor/calls/{call.pk}/")
    timeline = page.inner_text("#timeline")
    assert "DialCallStatus=no-answer" in timeline
    assert "support: tier 1, sequential (position order)" in timeline
    assert "Answered" in timeline
    screenshot("07-call-timeline")

    page.goto(f"{live_server.url}/admin/supervisor/coverage/")
    assert page.locator(".coverage-ok[data-group=support]").is_visible()
    assert "Sales" not in page.inner_text("#content-main")
    screenshot("08-coverage")

    page.goto(f"{live_server.url}/admin/supervisor/groups/support/reports/")
    assert page.locator("#hourly-chart rect").count() == 24
    assert "1 answered of 1" in page.inner_text("#report-figures")
    screenshot("09-report")

    page.goto(f"{live_server.url}/admin/supervisor/")
    screenshot("10-supervisor-index")
