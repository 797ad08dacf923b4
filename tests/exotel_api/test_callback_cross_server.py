"""Call-backs against concurrent inbound calls: two gunicorn servers, PostgreSQL.

The servers answer a burst of inbound first requests for more calls than the
group has agents while the test process places call-backs at the same moment
(threads, each with its own connection, as the supervisor pages of other
workers would). Nobody reports an outcome, so every offer stays pending inside
its hold: an agent with two pending offers would be double-booked.
"""

import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from agents.models import AgentGroup
from routing.calls.callbacks import place_callback
from routing.models import Attempt
from tests.conftest import TOKEN
from tests.routing.http.test_cross_server import (
    _get,
    _server_env,
    _start_servers,
    _stop_servers,
    _write_roster,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]

INBOUND = 10
CALLBACKS = 6


def _database_url() -> str:
    database = connection.settings_dict
    return "postgres://{user}{password}@{host}:{port}/{name}".format(
        user=urllib.parse.quote(database["USER"] or "", safe=""),
        password=":" + urllib.parse.quote(database["PASSWORD"], safe="")
        if database["PASSWORD"]
        else "",
        host=urllib.parse.quote(database["HOST"] or "localhost", safe=""),
        port=database["PORT"] or 5432,
        name=database["NAME"],
    )


def test_a_callback_never_double_books_against_inbound_calls(
    fake_exotel, settings, tmp_path
):
    settings.EXOTEL_CALLER_ID = "+918047000000"
    groups_csv, agents_csv = _write_roster(tmp_path)
    call_command("import_groups", groups_csv, verbosity=0)
    call_command("import_agents", agents_csv, verbosity=0)
    group = AgentGroup.objects.get(slug="burst")
    servers = _start_servers(
        _server_env(DATABASE_URL=_database_url(), DJANGO_CONN_MAX_AGE="0"), tmp_path
    )
    start = threading.Barrier(INBOUND + CALLBACKS)

    def inbound(index: int):
        base = servers[index % 2][1]
        query = urllib.parse.urlencode(
            {"CallSid": f"inbound{index:025d}", "CallFrom": "09812345678"}
        )
        start.wait()
        return _get(f"{base}/exotel/{TOKEN}/dial-whom/burst/?{query}")

    def callback(index: int):
        try:
            start.wait()
            return place_callback(
                group=group,
                caller=f"+9198765432{index:02d}",
                status_callback_url="http://127.0.0.1:1/unused/",
                now=timezone.now(),
            )
        finally:
            connection.close()

    try:
        with ThreadPoolExecutor(max_workers=INBOUND + CALLBACKS) as pool:
            inbound_replies = [pool.submit(inbound, n) for n in range(INBOUND)]
            placed = [pool.submit(callback, n) for n in range(CALLBACKS)]
            inbound_replies = [future.result() for future in inbound_replies]
            placed = [future.result() for future in placed]
    finally:
        _stop_servers(servers)

    assert all(status == 200 for status, _, _ in inbound_replies)
    booked = (
        Attempt.objects.filter(outcome="pending", agent__isnull=False)
        .values("agent")
        .annotate(offers=Count("pk"))
    )
    assert booked, "nobody was offered anything"
    assert max(row["offers"] for row in booked) == 1
    # Six agents, sixteen wishes: every agent went to exactly one of them.
    assert len(booked) == 6
    placed_ok = [result for result in placed if result.ok]
    assert len(fake_exotel.requests("POST")) == len(placed_ok)
    assert all(
        result.message.startswith("Nobody in Burst is free")
        for result in placed
        if not result.ok
    )


def test_two_clicks_at_the_same_instant_place_one_call(
    fake_exotel, settings, make_group, make_agent
):
    settings.EXOTEL_CALLER_ID = "+918047000000"
    group = make_group("support")
    make_agent("Asha", group)
    make_agent("Ravi", group)
    start = threading.Barrier(4)

    def click():
        try:
            start.wait()
            return place_callback(
                group=group,
                caller="+919876543210",
                status_callback_url="http://127.0.0.1:1/unused/",
                now=timezone.now(),
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: click(), range(4)))
    assert all(result.ok for result in results)
    assert len({result.call.pk for result in results}) == 1
    assert len(fake_exotel.requests("POST")) == 1
    assert Attempt.objects.filter(outcome="pending").count() == 1
