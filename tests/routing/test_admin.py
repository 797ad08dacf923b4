"""The call log in the admin: smoke tests, search, read-only, supervisor scope."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from routing.models import Call, WebhookRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(exotel, make_group, make_agent):
    support, sales = make_group("support"), make_group("sales")
    make_agent("Asha", support)
    make_agent("Sam", sales)
    exotel.numbers("support-call", "support", From="09901320691")
    exotel.numbers("sales-call", "sales", From="09800000002")
    exotel.dial_whom("bad sid", "support")
    return {"support": support, "sales": sales}


@pytest.fixture
def supervisor_client(django_user_model, calls):
    user = django_user_model.objects.create_user(
        "sunita", password="a-long-test-password", is_staff=True
    )
    calls["support"].supervisors.add(user)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:routing_call_changelist"),
        reverse("admin:routing_webhookrequest_changelist"),
    ],
)
def test_changelists_render(admin_client, calls, url):
    assert admin_client.get(url).status_code == 200


def test_call_change_page_shows_attempts_and_requests(admin_client, calls):
    call = Call.objects.get(sid="support-call")
    response = admin_client.get(reverse("admin:routing_call_change", args=[call.pk]))
    assert response.status_code == 200
    assert b"support: tier 1" in response.content
    assert b"why it went where it went" in response.content


def test_request_change_page_renders(admin_client, calls):
    logged = WebhookRequest.objects.get(status_code=400)
    url = reverse("admin:routing_webhookrequest_change", args=[logged.pk])
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("term", ["09901320691", "9901320691", "+91 99013 20691"])
def test_search_calls_by_caller_in_any_format(admin_client, calls, term):
    response = admin_client.get(reverse("admin:routing_call_changelist"), {"q": term})
    assert [call.sid for call in response.context["cl"].result_list] == ["support-call"]


def test_search_calls_by_sid(admin_client, calls):
    response = admin_client.get(
        reverse("admin:routing_call_changelist"), {"q": "sales-call"}
    )
    assert [call.sid for call in response.context["cl"].result_list] == ["sales-call"]


def test_log_is_read_only(admin_client, calls):
    call = Call.objects.get(sid="support-call")
    assert admin_client.get(reverse("admin:routing_call_add")).status_code == 403
    response = admin_client.post(reverse("admin:routing_call_delete", args=[call.pk]))
    assert response.status_code == 403
    assert Call.objects.filter(pk=call.pk).exists()


def test_supervisor_sees_only_their_groups_calls(supervisor_client, calls):
    response = supervisor_client.get(reverse("admin:routing_call_changelist"))
    assert [call.sid for call in response.context["cl"].result_list] == ["support-call"]
    other = Call.objects.get(sid="sales-call")
    response = supervisor_client.get(
        reverse("admin:routing_call_change", args=[other.pk])
    )
    assert response.status_code == 302  # the admin's "does not exist" redirect
    requests = (
        supervisor_client.get(reverse("admin:routing_webhookrequest_changelist"))
        .context["cl"]
        .result_list
    )
    assert {r.call_sid for r in requests} == {"support-call"}


def group_filter_choices(client) -> list[str]:
    changelist = client.get(reverse("admin:routing_call_changelist")).context["cl"]
    (spec,) = [spec for spec in changelist.filter_specs if spec.title == "group"]
    return [name for _, name in spec.lookup_choices]


def test_by_group_filter_names_only_the_supervisors_groups(
    supervisor_client, admin_client, calls
):
    assert group_filter_choices(supervisor_client) == ["Support"]
    assert group_filter_choices(admin_client) == ["Sales", "Support"]
    page = supervisor_client.get(reverse("admin:routing_call_changelist"))
    assert "Sales" not in page.content.decode()


def test_changelist_queries_do_not_grow_with_calls(admin_client, calls, exotel):
    url = reverse("admin:routing_call_changelist")
    admin_client.get(url)
    with CaptureQueriesContext(connection) as few_calls:
        admin_client.get(url)
    for n in range(10):
        exotel.dial_whom(f"more-{n}", "support")
    with CaptureQueriesContext(connection) as more_calls:
        admin_client.get(url)
    assert len(more_calls) == len(few_calls)
