"""Every supervisor page and admin list on a 1280x800 laptop and a 1920x1080 screen.

A page fails when one of its essential columns lies outside the window or outside
the box that scrolls it (a table wider than its frame), or when the page itself
scrolls sideways. The browser's clock is New York's, the server's and the
groups' India's: the pages must say which clock they use and not mix the two.
Screenshots go to test-artifacts/layout-<width>-<page>.png.
"""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from agents.models import Agent, AgentGroup, AgentHours, AgentStatus, Membership
from routing.models import Attempt, Call, CallResult, Outcome, WebhookRequest
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-browser-password"
VIEWPORTS = [(1280, 800), (1920, 1080)]
BROWSER_ZONE = "America/New_York"

# Whether an element lies inside the window and inside every box that clips it.
OUT_OF_VIEW = """
(elements) => elements.filter((element) => {
  const box = element.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) { return false; }
  if (box.left < -1 || box.right > window.innerWidth + 1) { return true; }
  for (let parent = element.parentElement; parent; parent = parent.parentElement) {
    const style = getComputedStyle(parent);
    if (style.overflowX === "visible") { continue; }
    const frame = parent.getBoundingClientRect();
    const right = frame.left + parent.clientWidth;
    if (box.left < frame.left - 1 || box.right > right + 1) { return true; }
  }
  return false;
}).map((element) => (element.id || element.className || element.tagName)
  + ": " + element.textContent.trim().slice(0, 40))
"""


# Boxes that scroll sideways because a table inside is wider than they are.
TABLE_OVERFLOWS = """
() => [...document.querySelectorAll("body *")].filter((element) =>
  getComputedStyle(element).overflowX !== "visible" && element.querySelector("table")
  && element.scrollWidth > element.clientWidth + 1
).map((element) => (element.id || element.className || element.tagName)
  + " by " + (element.scrollWidth - element.clientWidth) + "px")
"""


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


@pytest.fixture
def calls_and_roster():
    """Two groups, agents with long names and several groups, calls with real-length
    CallSids: answered, not answered, in progress, abandoned, a fallback number."""
    supervisor = get_user_model().objects.create_user(
        "sunita", password=PASSWORD, is_staff=True
    )
    support = AgentGroup.objects.create(
        slug="support",
        name="Support",
        exophones="+918047190001;+918047190002;+918047190003",
        digits="2",
        fallback_numbers="+919900000099",
    )
    sales = AgentGroup.objects.create(slug="sales", name="Sales and renewals")
    for group in (support, sales):
        group.supervisors.add(supervisor)
    agents = []
    for index, name in enumerate(
        ["Asha Rao", "Bala Subramaniam Venkataraman", "Chitra Krishnamurthy"], start=1
    ):
        agent = Agent.objects.create(name=name, phone=f"+9198000000{index:02d}")
        Membership.objects.create(agent=agent, group=support, position=index)
        Membership.objects.create(agent=agent, group=sales, priority=2, position=index)
        for weekday in range(6):
            AgentHours.objects.create(
                agent=agent, weekday=weekday, starts=dt.time(9), ends=dt.time(18)
            )
        agents.append(agent)
    Agent.objects.filter(pk=agents[2].pk).update(
        status=AgentStatus.BREAK, status_reason="training on the new billing system"
    )
    now = timezone.now()
    results = [
        (CallResult.ANSWERED, [Outcome.NO_ANSWER, Outcome.COMPLETED]),
        (CallResult.NOT_ANSWERED, [Outcome.NO_ANSWER, Outcome.BUSY, Outcome.NO_ANSWER]),
        (CallResult.ABANDONED, [Outcome.CANCELED]),
        (CallResult.IN_PROGRESS, [Outcome.PENDING]),
    ]
    for index, (result, outcomes) in enumerate(results * 3):
        moment = now - dt.timedelta(minutes=7 * index + 1)
        sid = f"{index:02d}c162077629863c1a2d7f29263a162m"
        call = Call.objects.create(
            sid=sid,
            caller=f"+9198450123{index:02d}",
            exophone="+918047190001",
            digits="2",
            group=support,
            first_seen_at=moment,
            result=result,
            answered_by=agents[1] if result == CallResult.ANSWERED else None,
        )
        for position, outcome in enumerate(outcomes, start=1):
            agent = agents[(position - 1) % 2] if position < 3 else None
            Attempt.objects.create(
                call=call,
                agent=agent,
                group=support,
                number=str(agent.phone) if agent else "+919900000099",
                position=position,
                reason="support: tier 1, sequential (position order)"
                if agent
                else "fallback number of support",
                offered_at=moment,
                hold_until=(now if result == CallResult.IN_PROGRESS else moment)
                + dt.timedelta(minutes=4)
                if agent
                else None,
                outcome=outcome,
                outcome_at=None if outcome == Outcome.PENDING else moment,
            )
            WebhookRequest.objects.create(
                call=call,
                call_sid=sid,
                endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
                group_slug="support",
                params={"CallSid": sid, "From": call.caller, "To": "08047190001"},
                status_code=200,
                response_body=str(agent.phone) if agent else "+919900000099",
                notes="support: tier 1, sequential (position order)",
                duration_ms=15.442196999970292,
                received_at=moment,
            )
        if result == CallResult.IN_PROGRESS and index < 4:
            Agent.objects.filter(pk=agents[0].pk).update(
                engaged_until=now + dt.timedelta(minutes=4), engaged_call_sid=sid
            )
    return {"support": support, "agents": agents, "call": Call.objects.first()}


def pages(data):
    """(name, path, essential selectors) for every page a supervisor uses."""
    agent, call = data["agents"][1], data["call"]
    support = data["support"]
    group = "/admin/supervisor/groups/support"
    return [
        ("admin-index", "/admin/", ["#supervisor-tools", "#clock-note"]),
        (
            "agents",
            "/admin/agents/agent/",
            [
                "th.column-name",
                "th.column-status_and_reason",
                "th.column-on_duty_now",
                "th.column-group_names",
                "th.column-pages",
                "td.field-group_names",
                "td.field-pages a",
            ],
        ),
        ("agent", f"/admin/agents/agent/{agent.pk}/change/", [".field-pages a"]),
        (
            "groups",
            "/admin/agents/agentgroup/",
            ["th.column-exophone_lines", "td.field-exophone_lines", "td.field-pages a"],
        ),
        ("group", f"/admin/agents/agentgroup/{support.pk}/change/", [".field-pages a"]),
        (
            "calls",
            "/admin/routing/call/",
            [
                "th.column-first_seen_at",
                "th.column-result_now",
                "th.column-answered_by_name",
                "th.column-attempt_count",
                "th.column-call_link",
                "td.field-result_now",
                "td.field-call_link a",
            ],
        ),
        ("call", f"/admin/routing/call/{call.pk}/change/", ["td.field-outcome"]),
        (
            "requests",
            "/admin/routing/webhookrequest/",
            [
                "th.column-http_status",
                "th.column-our_answer",
                "th.column-notes",
                "th.column-took",
                "td.field-our_answer",
                "td.field-took",
            ],
        ),
        ("supervisor-index", "/admin/supervisor/", ["#content-main table td a"]),
        (
            "preview",
            f"{group}/preview/",
            ["#preview-numbers th", ".preview-members td"],
        ),
        ("board", f"{group}/board/", ["#board-table th", "#board-table button"]),
        ("timeline", f"/admin/supervisor/calls/{call.pk}/", ["#timeline td"]),
        ("coverage", "/admin/supervisor/coverage/", ["#content-main h2"]),
        (
            "report",
            f"{group}/reports/",
            [
                "#report-figures div",
                "#results th",
                "#agent-figures th",
                "#csv-download",
            ],
        ),
        (
            "report-range",
            f"{group}/reports/?start={(timezone.localdate() - dt.timedelta(6))}"
            f"&end={timezone.localdate()}",
            ["#days th", "#daily-chart", "#agent-figures th"],
        ),
        (
            "call-back",
            f"{group}/missed-callers/",
            ["#missed-callers th", "#missed-callers button"],
        ),
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_every_page_fits_and_names_its_clock(
    browser, live_server, calls_and_roster, viewport
):
    width, height = viewport
    context = browser.new_context(
        viewport={"width": width, "height": height},
        timezone_id=BROWSER_ZONE,
        locale="en-US",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == (
        BROWSER_ZONE
    )
    log_in(page, live_server, "sunita")
    ARTIFACTS.mkdir(exist_ok=True)
    problems = {}
    for name, path, selectors in pages(calls_and_roster):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        page.screenshot(path=ARTIFACTS / f"layout-{width}-{name}.png", full_page=True)
        wide = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if wide > 1:
            problems.setdefault(name, []).append(f"page scrolls sideways by {wide}px")
        for box in page.evaluate(TABLE_OVERFLOWS):
            problems.setdefault(name, []).append(f"a table overflows {box}")
        for selector in selectors:
            elements = page.locator(selector)
            if elements.count() == 0:
                problems.setdefault(name, []).append(f"{selector}: missing")
                continue
            hidden = elements.evaluate_all(OUT_OF_VIEW)
            if hidden:
                problems.setdefault(name, []).append(
                    f"{selector} out of view: {hidden[:3]}"
                )
        text = page.inner_text("body")
        if "behind server time" in text or "ahead of server time" in text:
            problems.setdefault(name, []).append("a note on the browser's clock")
        if page.locator("#clock-note").inner_text().count("Asia/Kolkata") != 1:
            problems.setdefault(name, []).append("the clock is not named once")
        for stray in (" a.m.", " p.m.", " AM", " PM"):
            if stray in text:
                problems.setdefault(name, []).append(f"12-hour time ({stray.strip()})")
    context.close()
    assert not problems, "\n".join(
        f"{name}: {problem}" for name, found in problems.items() for problem in found
    )


def test_weekly_hours_have_no_now_link(browser, live_server, calls_and_roster):
    context = browser.new_context(timezone_id=BROWSER_ZONE)
    page = context.new_page()
    log_in(page, live_server, "sunita")
    agent = calls_and_roster["agents"][0]
    page.goto(f"{live_server.url}/admin/agents/agent/{agent.pk}/change/")
    hours = page.locator("#hours-group, [id$=hours-group]").first
    assert hours.locator("input[value='09:00']").count() == 6
    assert hours.get_by_role("link", name="Now").count() == 0
    assert page.locator(".timezonewarning:visible").count() == 0
    context.close()


def test_groups_changelist_fits_a_laptop_with_long_values(
    browser, live_server, calls_and_roster
):
    # Issue 18, item 12: a superuser (a column of checkboxes more) and groups with
    # long names, slugs, zones, overflow names and ExoPhone lists.
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    night = AgentGroup.objects.create(
        slug="enterprise-customer-support-bangalore-night",
        name="Enterprise customer support (Bangalore, night shift)",
        exophones="+918047190011;+918047190012;+918047190013;+918047190014",
        digits="12345",
        timezone="America/Argentina/Buenos_Aires",
        overflow=calls_and_roster["support"],
    )
    AgentGroup.objects.create(
        slug="supportgroupwithaverylongslugwithouthyphens",
        name="Supportgroupwithaverylongnamewithoutspaces",
        exophones="*",
        digits="9",
        timezone="America/Indiana/Indianapolis",
        overflow=night,
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    log_in(page, live_server, "root")
    page.goto(f"{live_server.url}/admin/agents/agentgroup/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "layout-1280-groups-long.png", full_page=True)
    wide = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert wide <= 1
    assert page.evaluate(TABLE_OVERFLOWS) == []
    for selector in ("td.field-exophone_lines", "td.field-pages a"):
        assert page.locator(selector).evaluate_all(OUT_OF_VIEW) == []
    context.close()
