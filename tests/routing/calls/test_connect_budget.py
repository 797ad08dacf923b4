"""The JSON answer costs the statements the text answer costs: the same decision."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.routing.calls.test_statement_budget import make_group_of
from tests.routing.http.test_connect import Connect, national

pytestmark = pytest.mark.django_db(transaction=True)

LITERAL = re.compile(r"'[^']*'|\b\d[\d.]*(e[+-]?\d+)?\b")


def statements(send) -> tuple[list[str], list[str]]:
    """Return (the statements, the numbers) of one request."""
    with CaptureQueriesContext(connection) as captured:
        numbers = send()
    # The same statements in the same order; only literal values (CallSids) differ.
    return [LITERAL.sub("?", query["sql"]) for query in captured], numbers


def test_connect_runs_dial_whoms_statements(exotel):
    group = make_group_of(20, "sequential")
    group.hold_seconds = 0  # the two calls do not take agents from each other
    group.save()
    connect = Connect()
    # Once a minute a process refreshes the group's last-known list: not counted.
    assert exotel.numbers("warm", group.slug)
    text = json_numbers = []
    for step in ("first", "no-answer"):
        params = {}
        if step == "no-answer":
            params = {
                "DialWhomNumber": national(text[0]),
                "DialCallStatus": "no-answer",
            }
        text_sql, text = statements(
            lambda params=params: exotel.numbers("text-call", group.slug, **params)
        )
        if step == "no-answer":
            params["DialWhomNumber"] = national(json_numbers[0])
        json_sql, json_numbers = statements(
            lambda params=params: connect.numbers("json-call", group.slug, **params)
        )
        assert json_numbers == text
        assert json_sql == text_sql, step
