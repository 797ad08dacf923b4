"""An agent's personal page on a 360 px phone, and the board's status parts.

Screenshots: test-artifacts/personal-*.png and board-status-*.png.
"""

import re

import pytest
from django.contrib.auth import get_user_model

from agents.models import Agent, AgentGroup, AgentStatus, Membership, StatusChange
from agents.personal_links import issue_personal_token
from routing.models import Attempt, Call, Outcome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-browser-password"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def asha():
    support = AgentGroup.objects.create(slug="support", name="Support")
    agent = Agent.objects.create(name="Asha", phone="+919800000001")
    Membership.objects.create(agent=agent, group=support)
    call = Call.objects.create(
        sid="browser-call", caller="+919811111111", group=support
    )
    Attempt.objects.create(
        call=call,
        agent=agent,
        group=support,
        number="+919800000001",
        position=1,
        outcome=Outcome.COMPLETED,
        talk_seconds=95,
    )
    return agent


@pytest.fixture(params=[True, False], ids=["javascript-on", "javascript-off"])
def phone(browser, request):
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=request.param, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.javascript = request.param
    yield page
    context.close()


def assert_no_horizontal_scroll(page):
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] <= PHONE["width"], widths


def test_the_agent_sets_their_status_on_a_phone(phone, live_server, asha):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    suffix = "js" if phone.javascript else "nojs"
    link = f"{live_server.url}/me/{issue_personal_token(agent=asha)}/"
    requests = []
    phone.on("request", lambda request: requests.append(request.url))

    phone.goto(link)
    assert phone.locator("#status .status").inner_text() == "Available"
    assert "+919811111111" in phone.locator("#calls").inner_text()
    assert_no_horizontal_scroll(phone)
    for name in ("Available", "Break", "Offline"):
        box = phone.get_by_role("button", name=name, exact=True).bounding_box()
        assert box["width"] >= 300 and box["height"] >= 48  # big, easy to hit
    phone.screenshot(
        path=ARTIFACTS / f"personal-1-available-{suffix}.png", full_page=True
    )

    phone.fill("#id_reason", "lunch")
    phone.get_by_label("15 minutes").check()
    phone.get_by_role("button", name="Break", exact=True).click()
    phone.wait_for_url(link)
    status = phone.locator("#status .status").inner_text()
    assert re.fullmatch(r"On break until \d\d:\d\d: lunch", status), status
    assert "You are now on break until" in phone.locator(".messages").inner_text()
    assert_no_horizontal_scroll(phone)
    phone.screenshot(
        path=ARTIFACTS / f"personal-2-on-break-{suffix}.png", full_page=True
    )

    phone.get_by_role("button", name="Offline", exact=True).click()
    phone.wait_for_url(link)
    assert phone.locator("#status .status").inner_text() == "Offline"
    asha.refresh_from_db()
    assert asha.status == AgentStatus.OFFLINE
    assert list(
        StatusChange.objects.order_by("changed_at").values_list("new_status", "via")
    ) == [("break", "page"), ("offline", "page")]
    # Nothing from anywhere but the service itself.
    assert all(url.startswith(live_server.url) for url in requests), requests


def test_a_revoked_link_shows_a_plain_error_page(phone, live_server, asha):
    from tests.browser.conftest import ARTIFACTS

    old = f"{live_server.url}/me/{issue_personal_token(agent=asha)}/"
    issue_personal_token(agent=asha)
    response = phone.goto(old)
    assert response.status == 404
    assert "does not work" in phone.inner_text("#error-message")
    assert_no_horizontal_scroll(phone)
    if phone.javascript:
        phone.screenshot(path=ARTIFACTS / "personal-3-revoked-link.png", full_page=True)


@pytest.fixture
def supervisor(asha):
    user = get_user_model().objects.create_user(
        "sunita", password=PASSWORD, is_staff=True
    )
    AgentGroup.objects.get(slug="support").supervisors.add(user)
    return user


def test_board_break_with_a_length_and_a_personal_link(
    page, live_server, supervisor, asha, screenshot, browser
):
    page.goto(
        f"{live_server.url}/admin/login/?next=/admin/supervisor/groups/support/board/"
    )
    page.fill("#id_username", "sunita")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/board/$"))

    row = page.locator("#board tr[data-agent=Asha]")
    row.locator("input[name=reason]").fill("tea")
    row.locator("select[name=minutes]").select_option("30")
    row.get_by_role("button", name="Break").click()
    page.wait_for_load_state()
    status = page.locator("#board tr[data-agent=Asha] td.status").inner_text()
    assert re.search(r"On break\s+until \d\d:\d\d", status), status
    assert "tea" in status and "live board (sunita)" in status
    screenshot("board-status-1-break-30-minutes")

    page.locator("#board tr[data-agent=Asha]").get_by_role(
        "button", name="Personal link"
    ).click()
    page.wait_for_url(re.compile(r"/personal-link/$"))
    link = page.input_value("#personal-link")
    assert link.startswith(f"{live_server.url}/me/")
    screenshot("board-status-2-personal-link")

    context = browser.new_context(viewport=PHONE)
    phone = context.new_page()
    phone.goto(link)
    assert "On break until" in phone.locator("#status .status").inner_text()
    phone.get_by_role("button", name="Available", exact=True).click()
    phone.wait_for_url(link)
    context.close()

    page.goto(f"{live_server.url}/admin/supervisor/groups/support/board/")
    status = page.locator("#board tr[data-agent=Asha] td.status").inner_text()
    assert "Available" in status and "personal page" in status
    screenshot("board-status-3-set-from-the-personal-page")


def test_admin_agent_page_history_and_personal_link(
    page, live_server, supervisor, asha, screenshot
):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "sunita")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    change = f"{live_server.url}/admin/agents/agent/{asha.pk}/change/"

    page.goto(change)
    page.select_option("#id_status", AgentStatus.BREAK)
    page.fill("#id_status_reason", "training")
    page.select_option("#id_break_length", "60")
    # Enter in a text box saves the form (the personal link is no button in it).
    page.press("#id_status_reason", "Enter")
    page.wait_for_url(re.compile(r"/admin/agents/agent/(\?.*)?$"))
    asha.refresh_from_db()
    assert (asha.status, asha.personal_token_hash) == (AgentStatus.BREAK, "")

    page.goto(change)
    assert re.search(
        r"On break until \d\d:\d\d: training", page.inner_text(".field-status_now")
    )
    history = page.inner_text(".field-status_history")
    assert "Admin" in history and "sunita" in history
    screenshot("admin-agent-status-history")

    page.get_by_role("link", name="Make a link").click()
    page.get_by_role("button", name="Make the link").click()
    link = page.input_value("#personal-link")
    assert link.startswith(f"{live_server.url}/me/")
    screenshot("admin-agent-personal-link")
    page.goto(change)
    assert "A link is set" in page.inner_text(".field-personal_link")
