"""Extreme or malformed query values on supervisor pages and admin filters: a form
error or a 4xx, never a 500 (issue 18, item 7)."""

import pytest
from django.urls import reverse

from pages.supervisor.forms import OUT_OF_RANGE

pytestmark = pytest.mark.django_db

FAR_DATES = ["0001-01-01", "9999-12-31"]


def group_page(name: str) -> str:
    return reverse(name, args=["support"])


DATE_QUERIES = [
    (group_page("supervisor-report"), {"start": "{date}"}),
    (group_page("supervisor-report"), {"end": "{date}"}),
    (group_page("supervisor-report"), {"start": "{date}", "end": "{date}"}),
    (group_page("supervisor-report"), {"start": "{date}", "format": "csv"}),
    (group_page("supervisor-missed-callers"), {"start": "{date}"}),
    (group_page("supervisor-missed-callers"), {"end": "{date}", "start": "{date}"}),
    (group_page("supervisor-agent-time"), {"date": "{date}"}),
    (group_page("supervisor-preview"), {"moment": "{date} 00:00"}),
    (group_page("supervisor-preview"), {"moment": "{date} 23:59"}),
    (reverse("admin:routing_call_changelist"), {"first_seen_at__gte": "{date}"}),
    (
        reverse("admin:routing_call_changelist"),
        {"first_seen_at__gte": "{date}", "first_seen_at__lt": "{date}"},
    ),
    (reverse("admin:routing_call_changelist"), {"first_seen_at__year": "9999"}),
    (
        reverse("admin:routing_call_changelist"),
        {"first_seen_at__year": "9999", "first_seen_at__month": "12"},
    ),
    (
        reverse("admin:routing_call_changelist"),
        {
            "first_seen_at__year": "9999",
            "first_seen_at__month": "12",
            "first_seen_at__day": "31",
        },
    ),
    (reverse("admin:routing_call_changelist"), {"first_seen_at__year": "1"}),
    (
        reverse("admin:routing_webhookrequest_changelist"),
        {"received_at__gte": "{date}"},
    ),
]


def fill(query: dict, date: str) -> dict:
    return {key: value.format(date=date) for key, value in query.items()}


@pytest.mark.parametrize("date", FAR_DATES)
@pytest.mark.parametrize(("url", "query"), DATE_QUERIES)
def test_far_dates_are_never_a_server_error(admin_client, roster, url, query, date):
    response = admin_client.get(url, fill(query, date))
    if query.get("format") == "csv":  # no file of another period: the reason
        assert response.status_code == 400
        assert response.content.decode() == OUT_OF_RANGE
    elif "/supervisor/" in url:  # the page, with the form's error
        assert response.status_code == 200
        assert OUT_OF_RANGE in response.content.decode()
    elif response.status_code != 200:  # 200: a day that exists, with no calls
        assert response.status_code == 302 and response["Location"].endswith("?e=1")


NUL_QUERIES = [
    (reverse("admin:routing_call_changelist"), {"q": "a\x00b"}),
    (reverse("admin:routing_call_changelist"), {"result": "\x00"}),
    (reverse("admin:routing_call_changelist"), {"agent": "\x00"}),
    (reverse("admin:routing_call_changelist"), {"attempts__outcome__exact": "\x00"}),
    (reverse("admin:routing_call_changelist"), {"group__id__exact": "\x00"}),
    (reverse("admin:routing_call_changelist"), {"first_seen_at__gte": "\x00"}),
    (reverse("admin:routing_webhookrequest_changelist"), {"q": "\x00"}),
    (reverse("admin:routing_webhookrequest_changelist"), {"endpoint__exact": "\x00"}),
    (reverse("admin:agents_agent_changelist"), {"q": "\x00"}),
    (reverse("admin:agents_agent_changelist"), {"group": "\x00"}),
    (reverse("admin:agents_agent_changelist"), {"status__exact": "\x00"}),
    (reverse("admin:agents_agent_changelist"), {"timezone__exact": "\x00"}),
    (reverse("admin:agents_agentgroup_changelist"), {"q": "\x00"}),
    (reverse("admin:agents_agentgroup_changelist"), {"strategy__exact": "\x00"}),
    (reverse("admin:agents_agent_changelist"), {"group": "abc"}),
    (reverse("admin:routing_call_changelist"), {"group__id__exact": "abc"}),
    (reverse("supervisor-coverage"), {"group": "abc"}),
    (reverse("supervisor-coverage"), {"group": "\x00"}),
    (group_page("supervisor-preview"), {"caller": "\x00"}),
    (group_page("supervisor-report"), {"start": "\x00"}),
]


@pytest.mark.parametrize(("url", "query"), NUL_QUERIES)
def test_nul_and_junk_in_filters_are_never_a_server_error(
    admin_client, roster, url, query
):
    response = admin_client.get(url, query)
    if any("\x00" in value for value in query.values()):
        assert response.status_code == 400
        assert response.content == b"NUL character in the query"
    else:
        assert response.status_code in (302, 404), response.content[:300]
