"""Every supervisor page renders, for a superuser and for a confined supervisor."""

import pytest
from django.urls import reverse

from agents.models import AgentStatus
from routing.models import Call

pytestmark = pytest.mark.django_db


def group_pages(slug):
    return [
        reverse("supervisor-preview", args=[slug]),
        reverse("supervisor-board", args=[slug]),
        reverse("supervisor-board-rows", args=[slug]),
        reverse("supervisor-report", args=[slug]),
        reverse("supervisor-coverage") + f"?group={slug}",
    ]


@pytest.fixture
def calls(roster, exotel):
    """One call in each group, each offered to its first agent and answered."""
    for sid, group, agent in [
        ("call-support-1", "support", roster["asha"]),
        ("call-sales-1", "sales", roster["chitra"]),
    ]:
        assert exotel.numbers(sid, group) == [str(agent.phone)]
        exotel.passthru(
            sid, DialWhomNumber=str(agent.phone), DialCallStatus="completed"
        )
    return {call.sid: call for call in Call.objects.all()}


def test_every_page_renders_for_a_superuser(admin_client, calls):
    pages = [reverse("supervisor-index"), reverse("supervisor-coverage")]
    for slug in ("support", "sales"):
        pages += group_pages(slug)
    pages += [
        reverse("supervisor-call-timeline", args=[call.pk]) for call in calls.values()
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page


def test_every_page_renders_for_a_supervisor(supervisor_client, calls):
    pages = [reverse("supervisor-index"), reverse("supervisor-coverage")]
    pages += group_pages("support")
    pages.append(reverse("supervisor-call-timeline", args=[calls["call-support-1"].pk]))
    for page in pages:
        response = supervisor_client.get(page)
        assert response.status_code == 200, page


def test_supervisor_gets_404_for_another_groups_pages(supervisor_client, calls):
    pages = group_pages("sales")
    pages.append(reverse("supervisor-call-timeline", args=[calls["call-sales-1"].pk]))
    for page in pages:
        assert supervisor_client.get(page).status_code == 404, page


def test_supervisor_cannot_change_another_groups_agent(supervisor_client, roster):
    url = reverse("supervisor-agent-status", args=["sales", roster["chitra"].pk])
    response = supervisor_client.post(url, {"status": "break", "reason": "lunch"})
    assert response.status_code == 404
    # Nor through their own group's URL with an agent who is not a member there.
    url = reverse("supervisor-agent-status", args=["support", roster["chitra"].pk])
    assert supervisor_client.post(url, {"status": "break"}).status_code == 404
    roster["chitra"].refresh_from_db()
    assert roster["chitra"].status == AgentStatus.AVAILABLE


def test_index_and_coverage_list_only_the_supervisors_groups(
    supervisor_client, admin_client, roster
):
    for page in (reverse("supervisor-index"), reverse("supervisor-coverage")):
        mine = supervisor_client.get(page).content.decode()
        assert "Support" in mine and "Sales" not in mine
        everything = admin_client.get(page).content.decode()
        assert "Support" in everything and "Sales" in everything


def test_pages_need_a_staff_login(client, roster, django_user_model):
    page = reverse("supervisor-board", args=["support"])
    response = client.get(page)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    django_user_model.objects.create_user("outsider", password="x" * 12)
    client.login(username="outsider", password="x" * 12)
    assert client.get(page).status_code == 302


def test_admin_index_links_the_supervisor_tools(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert reverse("supervisor-index") in response.content.decode()
