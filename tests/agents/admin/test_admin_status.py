"""The agent's admin page: status through the one service, history, personal link."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent, AgentStatus, Membership, StatusChange, StatusVia
from agents.personal_links import agent_for_personal_token
from agents.status import set_agent_status
from tests.agents.admin import test_admin
from tests.agents.admin.test_admin import agent_form, change_url

pytestmark = pytest.mark.django_db

# The admin tests' roster, and their supervisor confined to the group "mine".
roster = test_admin.roster
supervisor = test_admin.supervisor
supervisor_client = test_admin.supervisor_client


def post_form(client, agent, group, **changes):
    agent.refresh_from_db()
    membership = Membership.objects.get(agent=agent, group=group)
    data = agent_form(
        agent,
        [{"id": membership.pk, "group": group.pk, "priority": 1, "position": 0}],
        **changes,
    )
    return client.post(change_url(agent), data)


def test_a_status_change_in_the_form_is_kept_with_who_and_where(
    supervisor_client, supervisor, roster
):
    agent = roster["my_agent"]

    response = post_form(
        supervisor_client,
        agent,
        roster["mine"],
        status="break",
        status_reason="lunch",
        break_length="30",
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.status, agent.status_reason) == ("break", "lunch")
    left = agent.status_until - timezone.now()
    assert dt.timedelta(minutes=29) < left <= dt.timedelta(minutes=30)
    change = StatusChange.objects.get(agent=agent)
    assert (change.via, change.user, change.until) == (
        "admin",
        supervisor,
        agent.status_until,
    )


def test_keep_leaves_a_breaks_end_and_until_changed_clears_it(
    supervisor_client, roster
):
    agent = roster["my_agent"]
    end = timezone.now() + dt.timedelta(minutes=20)
    Agent.objects.filter(pk=agent.pk).update(status="break", status_until=end)

    post_form(supervisor_client, agent, roster["mine"], status_reason="tea")
    agent.refresh_from_db()
    assert (agent.status_reason, agent.status_until) == ("tea", end)

    post_form(supervisor_client, agent, roster["mine"], break_length="0")
    agent.refresh_from_db()
    assert agent.status_until is None
    assert StatusChange.objects.filter(agent=agent).count() == 2


def test_saving_other_fields_writes_no_history_and_keeps_the_engagement(
    supervisor_client, roster
):
    agent = roster["my_agent"]
    held = timezone.now() + dt.timedelta(minutes=5)
    Agent.objects.filter(pk=agent.pk).update(engaged_until=held, engaged_call_sid="c1")

    response = post_form(supervisor_client, agent, roster["mine"], name="Asha R")

    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.name, agent.engaged_until, agent.engaged_call_sid) == (
        "Asha R",
        held,
        "c1",
    )
    assert StatusChange.objects.count() == 0


def test_deactivating_and_going_offline_in_one_save(supervisor_client, roster):
    agent = roster["my_agent"]
    post_form(supervisor_client, agent, roster["mine"], status="offline", active="")
    agent.refresh_from_db()
    assert (agent.status, agent.active) == ("offline", False)

    # Inactive now: a status change alone is refused, and said so.
    response = post_form(
        supervisor_client, agent, roster["mine"], status="available", active=""
    )
    agent.refresh_from_db()
    assert agent.status == "offline"
    assert response.status_code == 302
    page = supervisor_client.get(change_url(agent)).content.decode()
    assert "Status not changed: Asha is inactive." in page


def test_the_history_is_shown_newest_first(supervisor_client, supervisor, roster):
    agent = roster["my_agent"]
    now = timezone.now()
    for minutes, status, via in [
        (30, "break", StatusVia.KEYPAD),
        (10, "offline", StatusVia.PAGE),
    ]:
        set_agent_status(
            agents=Agent.objects.filter(pk=agent.pk),
            status=status,
            reason="r",
            via=via,
            user=supervisor if via == StatusVia.PAGE else None,
            now=now - dt.timedelta(minutes=minutes),
        )

    page = supervisor_client.get(change_url(agent)).content.decode()

    assert page.index("Personal page") < page.index("Phone keypad")
    assert "Offline: r" in page
    assert "<td>Personal page</td><td>supervisor</td>" in page


def test_the_action_sets_a_break_with_a_length(supervisor_client, roster):
    agent = roster["my_agent"]
    response = supervisor_client.post(
        reverse("admin:agents_agent_changelist"),
        {"action": "make_on_break", "_selected_action": [agent.pk], "minutes": "15"},
        follow=True,
    )
    assert "1 agent set to on break." in response.content.decode()
    agent.refresh_from_db()
    assert agent.status_until is not None
    assert StatusChange.objects.get(agent=agent).via == "admin"

    response = supervisor_client.post(
        reverse("admin:agents_agent_changelist"),
        {"action": "make_on_break", "_selected_action": [agent.pk], "minutes": "15"},
        follow=True,
    )
    assert "1 agent set to on break." in response.content.decode()  # a new end


def test_the_action_says_what_it_left_alone(admin_client, roster):
    Agent.objects.filter(pk=roster["their_agent"].pk).update(active=False)
    Agent.objects.filter(pk=roster["my_agent"].pk).update(status="offline")
    response = admin_client.post(
        reverse("admin:agents_agent_changelist"),
        {
            "action": "make_offline",
            "_selected_action": [roster["my_agent"].pk, roster["their_agent"].pk],
        },
        follow=True,
    )
    assert "0 agents set to offline. 1 already was. 1 inactive: not changed." in (
        response.content.decode()
    )


def test_a_due_break_shows_as_ended_on_the_admin_pages(admin_client, roster):
    agent = roster["my_agent"]
    Agent.objects.filter(pk=agent.pk).update(
        status=AgentStatus.BREAK, status_until=timezone.now() - dt.timedelta(minutes=1)
    )
    admin_client.get(reverse("admin:agents_agent_changelist"))
    agent.refresh_from_db()
    assert agent.status == AgentStatus.AVAILABLE
    assert StatusChange.objects.get(agent=agent).via == "break-ended"


def test_the_personal_link_is_made_from_the_change_page(supervisor_client, roster):
    agent = roster["my_agent"]
    page = supervisor_client.get(change_url(agent)).content.decode()
    url = reverse("admin:agents_agent_personal_link", args=[agent.pk])
    assert f'href="{url}"' in page
    confirm = supervisor_client.get(url)
    assert "Make a new personal link for Asha?" in confirm.content.decode()
    assert not Agent.objects.exclude(personal_token_hash="").exists()  # asked only

    response = supervisor_client.post(url)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    link = response.context["link"]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert link.startswith("http://testserver/me/")
    assert agent_for_personal_token(token) == agent
    assert f'value="{link}"' in response.content.decode()
    # Shown once: the change page says a link is set, never the link.
    page = supervisor_client.get(change_url(agent)).content.decode()
    assert token not in page and "A link is set" in page


def test_the_personal_link_needs_a_post_and_a_visible_agent(supervisor_client, roster):
    mine = reverse("admin:agents_agent_personal_link", args=[roster["my_agent"].pk])
    theirs = reverse(
        "admin:agents_agent_personal_link", args=[roster["their_agent"].pk]
    )
    assert supervisor_client.put(mine).status_code == 405
    assert supervisor_client.get(theirs).status_code == 404
    assert supervisor_client.post(theirs).status_code == 404
    assert not Agent.objects.exclude(personal_token_hash="").exists()


@pytest.mark.parametrize(
    ("length", "ends"),
    [("15", True), ("0", False), ("", False)],
    ids=["fifteen-minutes", "until-changed", "keep-means-until-changed"],
)
def test_a_new_agent_on_break(admin_client, roster, length, ends):
    data = agent_form(
        Agent(name="Kavya", phone="+919900000009", status="break"),
        [{"group": roster["mine"].pk, "priority": 1, "position": 0}],
        break_length=length,
    )

    response = admin_client.post(reverse("admin:agents_agent_add"), data)

    assert response.status_code == 302
    kavya = Agent.objects.get(name="Kavya")
    assert kavya.status == "break"
    assert (kavya.status_until is not None) == ends


def test_a_user_who_may_only_view_agents_makes_no_link(client, roster):
    viewer = get_user_model().objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_agent"))
    client.force_login(viewer)
    url = reverse("admin:agents_agent_personal_link", args=[roster["my_agent"].pk])

    assert client.post(url).status_code in (403, 404)
    assert not Agent.objects.exclude(personal_token_hash="").exists()
