"""The supervisors' admin: every page renders, search, actions, confinement, query budgets."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.models import Agent, AgentGroup, AgentStatus, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(make_group, make_agent):
    mine = make_group(slug="mine", name="Mine")
    theirs = make_group(slug="theirs", name="Theirs")
    return {
        "mine": mine,
        "theirs": theirs,
        "my_agent": make_agent(name="Asha", phone="+919900000001", groups=[mine]),
        "their_agent": make_agent(name="Ravi", phone="+919900000002", groups=[theirs]),
        "shared_agent": make_agent(
            name="Meera", phone="+919900000003", groups=[mine, theirs]
        ),
    }


@pytest.fixture
def supervisor(roster):
    user = get_user_model().objects.create_user(
        "supervisor", password="x", is_staff=True
    )
    roster["mine"].supervisors.add(user)
    return user


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


def change_url(obj) -> str:
    return reverse(f"admin:agents_{obj._meta.model_name}_change", args=[obj.pk])


def pages(roster):
    return [
        reverse("admin:index"),
        reverse("admin:agents_agent_changelist"),
        reverse("admin:agents_agent_add"),
        change_url(roster["my_agent"]),
        reverse("admin:agents_agentgroup_changelist"),
        reverse("admin:agents_agentgroup_add"),
        change_url(roster["mine"]),
    ]


def test_every_page_renders_for_a_superuser(admin_client, roster):
    for url in pages(roster):
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_every_page_renders_for_a_supervisor(supervisor_client, roster):
    for url in pages(roster):
        response = supervisor_client.get(url)
        expected = 403 if url == reverse("admin:agents_agentgroup_add") else 200
        assert response.status_code == expected, url


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("status=break", id="status"),
        pytest.param("active__exact=0", id="active"),
        pytest.param("on_duty=yes", id="on-duty-yes"),
        pytest.param("on_duty=no", id="on-duty-no"),
        pytest.param("group=GROUP", id="group"),
        pytest.param("o=5", id="ordered-by-on-duty"),
    ],
)
def test_agent_changelist_filters_render(admin_client, roster, query):
    query = query.replace("GROUP", str(roster["mine"].pk))
    response = admin_client.get(reverse("admin:agents_agent_changelist") + "?" + query)
    assert response.status_code == 200


def test_filters_select_the_right_agents(admin_client, roster):
    Agent.objects.filter(pk=roster["their_agent"].pk).update(active=False)
    url = reverse("admin:agents_agent_changelist")

    def names(query):
        response = admin_client.get(f"{url}?{query}")
        return sorted(agent.name for agent in response.context["cl"].result_list)

    assert names(f"group={roster['mine'].pk}") == ["Asha", "Meera"]
    assert names("on_duty=yes") == ["Asha", "Meera"]
    assert names("on_duty=no") == ["Ravi"]


@pytest.mark.parametrize(
    "term",
    [
        pytest.param("09900000001", id="national-with-zero"),
        pytest.param("9900000001", id="ten-digits"),
        pytest.param("+91 99000 00001", id="spaced-international"),
        pytest.param("+919900000001", id="e164"),
        pytest.param("919900000001", id="country-code-without-plus"),
        pytest.param("099000-00001", id="with-a-dash"),
        pytest.param("Asha", id="by-name"),
    ],
)
def test_search_finds_an_agent_by_phone_in_any_format(admin_client, roster, term):
    response = admin_client.get(reverse("admin:agents_agent_changelist"), {"q": term})
    assert [agent.name for agent in response.context["cl"].result_list] == ["Asha"]


def test_search_does_not_reach_other_supervisors_agents(supervisor_client, roster):
    response = supervisor_client.get(
        reverse("admin:agents_agent_changelist"), {"q": "09900000002"}
    )
    assert list(response.context["cl"].result_list) == []


def test_changelists_show_a_supervisor_only_their_groups(supervisor_client, roster):
    agents = supervisor_client.get(reverse("admin:agents_agent_changelist"))
    groups = supervisor_client.get(reverse("admin:agents_agentgroup_changelist"))

    assert sorted(a.name for a in agents.context["cl"].result_list) == [
        "Asha",
        "Meera",
    ]
    assert [g.slug for g in groups.context["cl"].result_list] == ["mine"]
    # The shared agent's other group is not even named.
    assert "Theirs" not in agents.content.decode()


def test_superuser_sees_everything(admin_client, roster):
    agents = admin_client.get(reverse("admin:agents_agent_changelist"))
    groups = admin_client.get(reverse("admin:agents_agentgroup_changelist"))
    assert len(agents.context["cl"].result_list) == 3
    assert len(groups.context["cl"].result_list) == 2


def test_supervisor_cannot_reach_others_by_editing_the_url(supervisor_client, roster):
    for obj in (roster["their_agent"], roster["theirs"]):
        response = supervisor_client.get(change_url(obj))
        # The admin answers an object outside the queryset as missing.
        assert response.status_code == 302
        assert response.url == reverse("admin:index")
        response = supervisor_client.post(change_url(obj), {"name": "Hijacked"})
        assert response.status_code == 302
    assert not Agent.objects.filter(name="Hijacked").exists()
    assert not AgentGroup.objects.filter(name="Hijacked").exists()


def agent_form(agent, memberships, **changes):
    """Return the change-form POST data for `agent` with `memberships` inline."""
    data = {
        "name": agent.name,
        "phone": str(agent.phone),
        "status": agent.status,
        "status_reason": agent.status_reason,
        "active": "on" if agent.active else "",
        "timezone": agent.timezone,
        "missed_in_row": agent.missed_in_row,
        "memberships-TOTAL_FORMS": len(memberships),
        "memberships-INITIAL_FORMS": sum(1 for m in memberships if m.get("id")),
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
        "hours-TOTAL_FORMS": 0,
        "hours-INITIAL_FORMS": 0,
        "time_off-TOTAL_FORMS": 0,
        "time_off-INITIAL_FORMS": 0,
        "skills-TOTAL_FORMS": 0,
        "skills-INITIAL_FORMS": 0,
        **changes,
    }
    for index, membership in enumerate(memberships):
        for key, value in membership.items():
            data[f"memberships-{index}-{key}"] = value
        data[f"memberships-{index}-agent"] = agent.pk or ""
    return {key: value for key, value in data.items() if value != ""}


def test_supervisor_cannot_add_a_membership_to_a_group_they_do_not_supervise(
    supervisor_client, roster
):
    agent = roster["my_agent"]
    mine = Membership.objects.get(agent=agent, group=roster["mine"])
    data = agent_form(
        agent,
        [
            {"id": mine.pk, "group": roster["mine"].pk, "priority": 1, "position": 0},
            {"group": roster["theirs"].pk, "priority": 1, "position": 0},
        ],
    )

    response = supervisor_client.post(change_url(agent), data)

    assert response.status_code == 200  # the form again, with an error
    assert "Select a valid choice" in response.content.decode()
    assert not Membership.objects.filter(agent=agent, group=roster["theirs"]).exists()


def test_supervisor_edits_a_shared_agent_without_touching_the_other_group(
    supervisor_client, roster
):
    agent = roster["shared_agent"]
    mine = Membership.objects.get(agent=agent, group=roster["mine"])
    data = agent_form(
        agent,
        [{"id": mine.pk, "group": roster["mine"].pk, "priority": 2, "position": 0}],
        name="Meera Iyer",
    )

    response = supervisor_client.post(change_url(agent), data)

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.name == "Meera Iyer"
    assert Membership.objects.get(pk=mine.pk).priority == 2
    assert Membership.objects.filter(agent=agent, group=roster["theirs"]).exists()


def test_supervisor_adds_an_agent_only_into_their_groups(supervisor_client, roster):
    url = reverse("admin:agents_agent_add")
    blank = Agent(name="New", phone="09900000044")

    orphan = supervisor_client.post(url, agent_form(blank, []))
    assert orphan.status_code == 200
    assert "at least one of your groups" in orphan.content.decode()

    added = supervisor_client.post(
        url,
        agent_form(blank, [{"group": roster["mine"].pk, "priority": 1, "position": 0}]),
    )
    assert added.status_code == 302
    agent = Agent.objects.get(name="New")
    assert str(agent.phone) == "+919900000044"
    assert list(agent.memberships.values_list("group__slug", flat=True)) == ["mine"]


def test_supervisors_field_is_for_superusers_only(
    admin_client, supervisor_client, roster
):
    url = change_url(roster["mine"])
    assert 'name="supervisors"' in admin_client.get(url).content.decode()
    assert 'name="supervisors"' not in supervisor_client.get(url).content.decode()


def test_supervisor_cannot_overflow_into_a_group_they_do_not_see(
    supervisor_client, roster
):
    form = supervisor_client.get(change_url(roster["mine"])).context["adminform"].form
    assert list(form.fields["overflow"].queryset) == [roster["mine"]]


def test_agent_autocomplete_is_confined(supervisor_client, roster):
    response = supervisor_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "",
            "app_label": "agents",
            "model_name": "membership",
            "field_name": "agent",
        },
    )
    assert response.status_code == 200
    names = sorted(item["text"] for item in response.json()["results"])
    assert [name.split(" ")[0] for name in names] == ["Asha", "Meera"]


@pytest.mark.parametrize(
    ("action", "status"),
    [
        pytest.param("make_available", AgentStatus.AVAILABLE, id="available"),
        pytest.param("make_on_break", AgentStatus.BREAK, id="on-break"),
        pytest.param("make_offline", AgentStatus.OFFLINE, id="offline"),
    ],
)
def test_status_actions(supervisor_client, roster, action, status):
    long_ago = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    Agent.objects.update(
        status=AgentStatus.BREAK,
        status_reason="missed 3 calls",
        missed_in_row=3,
        status_changed_at=long_ago,
    )
    selected = [roster["my_agent"].pk, roster["shared_agent"].pk]

    response = supervisor_client.post(
        reverse("admin:agents_agent_changelist"),
        {"action": action, "_selected_action": selected, "reason": "team meeting"},
        follow=True,
    )

    assert "2 agents set to" in response.content.decode()
    for agent in Agent.objects.filter(pk__in=selected):
        # Back to available, a reason would only mislead: it is cleared.
        reason = "" if status == AgentStatus.AVAILABLE else "team meeting"
        assert (agent.status, agent.status_reason, agent.missed_in_row) == (
            status,
            reason,
            0,
        )
        assert agent.status_changed_at > long_ago
    # Another supervisor's agent is out of reach even when its id is posted.
    supervisor_client.post(
        reverse("admin:agents_agent_changelist"),
        {"action": action, "_selected_action": [roster["their_agent"].pk]},
    )
    assert Agent.objects.get(pk=roster["their_agent"].pk).missed_in_row == 3


def test_manual_status_change_in_the_form_restarts_the_missed_count(
    admin_client, roster
):
    agent = roster["my_agent"]
    Agent.objects.filter(pk=agent.pk).update(status=AgentStatus.BREAK, missed_in_row=3)
    agent.refresh_from_db()
    before = agent.status_changed_at
    mine = Membership.objects.get(agent=agent)
    data = agent_form(
        agent,
        [{"id": mine.pk, "group": roster["mine"].pk, "priority": 1, "position": 0}],
        status=AgentStatus.AVAILABLE,
    )

    assert admin_client.post(change_url(agent), data).status_code == 302

    agent.refresh_from_db()
    assert (agent.status, agent.missed_in_row) == (AgentStatus.AVAILABLE, 0)
    assert agent.status_changed_at > before


@pytest.mark.parametrize(
    "url_name",
    ["admin:agents_agent_changelist", "admin:agents_agentgroup_changelist"],
)
@pytest.mark.parametrize("who", ["superuser", "supervisor"])
def test_changelist_queries_do_not_grow_with_rows(
    client, django_assert_num_queries, make_group, make_agent, url_name, who
):
    groups = [make_group() for _ in range(3)]
    user_model = get_user_model()
    if who == "superuser":
        user = user_model.objects.create_superuser("boss", password="x")
    else:
        user = user_model.objects.create_user("sup", password="x", is_staff=True)
        for group in groups:
            group.supervisors.add(user)
    client.force_login(user)
    url = reverse(url_name)
    for n in range(3):
        make_agent(groups=groups[: n + 1])
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200

    for n in range(40):
        make_agent(groups=groups[: n % 3 + 1])
    for _ in range(10):
        make_group()
    if who == "supervisor":
        for group in AgentGroup.objects.all():
            group.supervisors.add(user)

    with django_assert_num_queries(len(few)):
        assert client.get(url).status_code == 200
