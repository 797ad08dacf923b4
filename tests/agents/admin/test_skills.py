"""The admin of DESIGN section 10: every page renders; the forms refuse what the
importers refuse; callers are found by number in any format."""

import pytest
from django.urls import reverse

from agents.models import AgentGroup, AgentSkill, Caller, Route, Skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_group, make_agent):
    group = make_group(slug="support", exophones="+918047190009")
    asha = make_agent(name="Asha", groups=[group])
    Skill.objects.create(name="tamil")
    Skill.objects.create(name="tamill")  # misspelt: nobody has it
    AgentSkill.objects.create(agent=asha, skill_id="tamil", level=4)
    route = Route.objects.create(slug="tamil", group=group, needs="tamil:3")
    caller = Caller.objects.create(number="+919812345678", owner=asha, notes="VIP")
    return {"group": group, "asha": asha, "route": route, "caller": caller}


@pytest.mark.parametrize("model", ["skill", "route", "caller"])
def test_every_page_renders(admin_client, setup, model):
    changelist = admin_client.get(reverse(f"admin:agents_{model}_changelist"))
    assert changelist.status_code == 200
    assert admin_client.get(reverse(f"admin:agents_{model}_add")).status_code == 200
    obj = {"skill": Skill.objects.get(name="tamil"), **setup}[
        "skill" if model == "skill" else model
    ]
    change = reverse(f"admin:agents_{model}_change", args=[obj.pk])
    assert admin_client.get(change).status_code == 200


def test_skills_list_shows_who_has_it_and_who_needs_it(admin_client, setup):
    page = admin_client.get(reverse("admin:agents_skill_changelist")).content.decode()
    assert "Asha (4)" in page
    assert "routes tamil" in page
    assert "nobody has it" in page and "nobody needs it" in page


def test_agent_page_edits_skills_inline(admin_client, setup):
    page = admin_client.get(
        reverse("admin:agents_agent_change", args=[setup["asha"].pk])
    )
    assert "skills (level 1 = some, 5 = best)" in page.content.decode().lower()


def route_data(**changes):
    return {
        "slug": "hindi",
        "group": AgentGroup.objects.get(slug="support").pk,
        "needs": "Hindi:3;billing",
        "relax_after": "",
        "exophones": "",
        "digits": "",
        **changes,
    }


def test_route_form_stores_needs_as_the_file_does(admin_client, setup):
    response = admin_client.post(reverse("admin:agents_route_add"), route_data())
    assert response.status_code == 302
    route = Route.objects.get(slug="hindi")
    assert (route.needs, route.relax_after) == ("billing:1;hindi:3", None)
    assert Skill.objects.filter(name="billing").exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"needs": "hindi:9"}, "level &#x27;9&#x27; of need &#x27;hindi&#x27;"),
        ({"slug": "support"}, "already a group"),
        ({"exophones": "08047190009"}, "is already taken by group &#x27;support&#x27;"),
        ({"digits": "1"}, "digits need exophones"),
    ],
    ids=["need-level", "slug-of-a-group", "pair-of-a-group", "digits-without-phone"],
)
def test_route_form_refuses_what_import_routes_refuses(
    admin_client, setup, changes, message
):
    response = admin_client.post(
        reverse("admin:agents_route_add"), route_data(**changes)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Route.objects.filter(
        slug=changes.get("slug", "hindi"), needs=""
    ).exists()


def test_group_form_refuses_a_route_slug(setup):
    group = AgentGroup(slug="tamil", name="Tamil")
    with pytest.raises(Exception, match="already a route"):
        group.full_clean()


def caller_data(**changes):
    return {
        "number": "098 1111 1111",
        "name": "",
        "owner": "",
        "binding": "loose",
        "needs": "",
        "notes": "",
        **changes,
    }


def test_caller_form_normalises_and_refuses_strict_without_owner(admin_client, setup):
    url = reverse("admin:agents_caller_add")
    refused = admin_client.post(url, caller_data(binding="strict"))
    assert "binding strict needs an owner" in refused.content.decode()
    assert admin_client.post(url, caller_data(needs="Tamil:2")).status_code == 302
    caller = Caller.objects.get(number="+919811111111")
    assert caller.needs == "tamil:2"


@pytest.mark.parametrize("term", ["09812345678", "+91 98123 45678", "919812345678"])
def test_caller_search_finds_a_number_in_any_format(admin_client, setup, term):
    page = admin_client.get(reverse("admin:agents_caller_changelist"), {"q": term})
    assert "+919812345678" in page.content.decode()
