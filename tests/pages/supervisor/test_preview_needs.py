"""The routing preview with a route and a known caller (DESIGN 10.4)."""

import pytest
from django.urls import reverse

from agents.models import AgentSkill, Caller, Route, Skill
from pages.preview import preview_route
from tests.conftest import at

pytestmark = pytest.mark.django_db

NOON = at(12)


@pytest.fixture
def hindi(roster):
    Skill.objects.create(name="hindi")
    AgentSkill.objects.create(agent=roster["bala"], skill_id="hindi", level=2)
    return Route.objects.create(slug="hindi", group=roster["support"], needs="hindi:3")


def test_preview_says_per_member_what_they_lack_or_that_they_meet_the_needs(
    roster, hindi
):
    AgentSkill.objects.filter(agent=roster["bala"]).update(level=3)
    AgentSkill.objects.create(agent=roster["asha"], skill_id="hindi", level=2)
    preview = preview_route(
        group=roster["support"], caller="", moment=NOON, route=hindi
    )
    assert [n.agent_name for n in preview.numbers] == ["Bala"]
    notes = {v.membership.agent.name: v.notes for v in preview.groups[0].members}
    assert notes == {
        "Asha": ["lacks hindi (has 2, needs 3)"],
        "Bala": ["meets the needs"],
    }
    assert preview.needs == "needs Hindi, level 3 or more"


def test_preview_names_the_owner_and_the_known_caller(roster, hindi):
    Caller.objects.create(
        number="+919812345678", owner=roster["asha"], vip=True, notes="gold customer"
    )
    preview = preview_route(
        group=roster["support"], caller="+919812345678", moment=NOON, route=hindi
    )
    assert [n.agent_name for n in preview.numbers] == ["Asha"]
    notes = {v.membership.agent.name: v.notes for v in preview.groups[0].members}
    assert notes["Asha"] == [
        "owner of this caller",
        "lacks hindi (does not have it, needs 3)",
    ]
    assert "owner Asha rings first when available" in preview.notes


def test_preview_page_takes_a_route_and_a_blocked_caller(
    supervisor_client, roster, hindi
):
    Caller.objects.create(number="+919812345678", blocked=True)
    page = supervisor_client.get(
        reverse("supervisor-preview", args=["support"]),
        {"caller": "09812345678", "route": "hindi"},
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "by route hindi" in text
    assert "needs Hindi, level 3 or more" in text
    assert "Blocked caller: the answer is empty." in text
    assert "lacks hindi (has 2, needs 3)" in text
    assert page.context["preview"].numbers == []
