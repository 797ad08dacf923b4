"""Roster files end to end: parsers, services and the four commands."""

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from agents.importers import AGENT_COLUMNS, GROUP_COLUMNS, parse_agents_csv
from agents.models import (
    Agent,
    AgentGroup,
    AgentHours,
    AgentStatus,
    GroupHours,
    Holiday,
    Membership,
    TimeOff,
)
from agents.roster_files import import_agents
from agents.rules.queries import group_is_open
from tests.conftest import agents_on_duty

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def csv_text(columns, rows) -> str:
    """Return a roster file: `columns` as header, each row a dict of non-empty cells."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def groups_file(*rows) -> str:
    return csv_text(GROUP_COLUMNS, rows)


def agents_file(*rows) -> str:
    return csv_text(AGENT_COLUMNS, rows)


def roster_snapshot():
    """Return every roster row, every field: equal snapshots mean nothing was written."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Agent, AgentGroup, Membership, AgentHours, GroupHours, TimeOff)
    ]


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "roster.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding=encoding)
        return path

    return write


@pytest.fixture
def example_roster():
    call_command("import_groups", EXAMPLES / "groups.csv", stdout=io.StringIO())
    call_command("import_agents", EXAMPLES / "agents.csv", stdout=io.StringIO())


def run(command, *args, **options) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, **options)
    return out.getvalue()


# The example roster --------------------------------------------------------------


def test_example_roster_loads():
    assert "4 created" in run("import_groups", EXAMPLES / "groups.csv")
    assert "13 created" in run("import_agents", EXAMPLES / "agents.csv")

    sales = AgentGroup.objects.get(slug="sales")
    assert sales.overflow.slug == "after-hours"
    assert sales.exophones == "+918047190001"
    assert sales.digits == "1"
    assert AgentGroup.objects.get(slug="support").exophones == "*"
    assert not GroupHours.objects.filter(group__slug="support").exists()
    asha = Agent.objects.get(phone="+919900000001")
    assert sorted(asha.memberships.values_list("group__slug", "priority")) == [
        ("sales", 1),
        ("support", 2),
    ]
    # National and spaced formats are stored as E.164.
    assert Agent.objects.filter(phone="+919900000002", name="Vikram Shah").exists()
    assert Agent.objects.filter(phone="+919900000003", name="Priya Nair").exists()
    assert Agent.objects.get(name="Tom Baker").timezone == "Europe/London"
    assert not Agent.objects.get(name="Ravi Kumar").active


@pytest.mark.postgres
def test_import_gives_postgresql_the_statistics_of_the_new_roster():
    """The routing statements' generic plans are chosen from them (bench/RESULTS.md)."""
    if connection.vendor != "postgresql":
        pytest.skip("the planner's statistics are PostgreSQL's")
    run("import_groups", EXAMPLES / "groups.csv")
    run("import_agents", EXAMPLES / "agents.csv")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN"
            " ('agents_agent', 'agents_membership', 'agents_agentgroup')"
        )
        counted = dict(cursor.fetchall())
    assert counted == {
        "agents_agent": Agent.objects.count(),
        "agents_membership": Membership.objects.count(),
        "agents_agentgroup": AgentGroup.objects.count(),
    }


def test_example_roster_always_has_someone_on_duty():
    """The quick start has someone to dial at any hour: support is always open."""
    call_command("import_groups", EXAMPLES / "groups.csv", stdout=io.StringIO())
    call_command("import_agents", EXAMPLES / "agents.csv", stdout=io.StringIO())
    support = AgentGroup.objects.get(slug="support")
    start = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
    for hour in range(0, 7 * 24, 5):
        moment = start + dt.timedelta(hours=hour)
        assert group_is_open(support, moment)
        on_duty = agents_on_duty(moment).filter(
            memberships__group=support, status=AgentStatus.AVAILABLE
        )
        assert on_duty.exists(), moment


def test_reimport_changes_nothing(example_roster):
    before = roster_snapshot()

    groups_out = run("import_groups", EXAMPLES / "groups.csv")
    agents_out = run("import_agents", EXAMPLES / "agents.csv")

    assert "0 created, 0 updated, 4 unchanged" in groups_out
    assert "0 created, 0 updated, 13 unchanged" in agents_out
    assert roster_snapshot() == before


def test_export_then_import_is_a_no_op(example_roster, write, make_agent):
    # Roster edits made in the admin, in an order a file never had.
    support = AgentGroup.objects.get(slug="support")
    late = make_agent(name="Aaron Late", phone="+919900000077")
    Membership.objects.create(agent=late, group=support, priority=2, position=0)
    AgentHours.objects.create(
        agent=late, weekday=6, starts=dt.time(20, 0), ends=dt.time(2, 0)
    )
    GroupHours.objects.create(
        group=support, weekday=0, starts=dt.time(0, 0), ends=dt.time(0, 0)
    )
    groups_csv = write(run("export_groups", "-"), "groups.csv")
    agents_csv = write(run("export_agents", "-"), "agents.csv")
    before = roster_snapshot()

    assert "0 created, 0 updated, 4 unchanged" in run("import_groups", groups_csv)
    assert "0 created, 0 updated, 14 unchanged" in run("import_agents", agents_csv)
    assert roster_snapshot() == before
    # And the export is stable too.
    assert run("export_agents", "-") == agents_csv.read_text()


def test_export_writes_a_file(example_roster, tmp_path):
    target = tmp_path / "out.csv"
    out = run("export_agents", target)
    assert "Exported 13 agents" in out
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join((*AGENT_COLUMNS, "skills"))
    assert "Asha Rao,+919900000001,sales;support:2,available,yes,Asia/Kolkata," in (
        "\n".join(lines)
    )


def test_dry_run_counts_but_writes_nothing(write):
    before = roster_snapshot()

    out = run("import_groups", EXAMPLES / "groups.csv", dry_run=True)

    assert "Dry run, rolled back" in out
    assert "4 created" in out
    assert roster_snapshot() == before


def test_dry_run_of_agents_writes_nothing(example_roster, write):
    before = roster_snapshot()
    path = write(agents_file({"name": "New Person", "phone": "09900000055"}))

    out = run("import_agents", path, dry_run=True, deactivate_missing=True)

    assert "1 created" in out
    assert "12 deactivated" in out  # Ravi Kumar is inactive already
    assert roster_snapshot() == before


def test_deactivate_missing(example_roster, write):
    path = write(
        agents_file(
            {"name": "Asha Rao", "phone": "+919900000001", "groups": "sales"},
            {"name": "Neha Joshi", "phone": "+918123456789", "groups": "after-hours"},
        )
    )

    out = run("import_agents", path, deactivate_missing=True)

    assert "10 deactivated" in out  # 13 in the roster, 2 kept, 1 already inactive
    assert set(Agent.objects.filter(active=True).values_list("name", flat=True)) == {
        "Asha Rao",
        "Neha Joshi",
    }
    # Without the flag, absent agents are left alone.
    Agent.objects.update(active=True)
    run("import_agents", path)
    assert Agent.objects.filter(active=True).count() == 13


def test_memberships_follow_the_file(example_roster, write):
    path = write(
        agents_file(
            {
                "name": "Vikram Shah",
                "phone": "+919900000002",
                "groups": "sales;billing:3",
            },
            {"name": "Asha Rao", "phone": "9900000001", "groups": "sales:2"},
        )
    )

    run("import_agents", path)

    asha = Agent.objects.get(phone="+919900000001")
    vikram = Agent.objects.get(phone="+919900000002")
    # The support membership the file no longer lists is gone.
    assert list(asha.memberships.values_list("group__slug", "priority")) == [
        ("sales", 2)
    ]
    assert sorted(vikram.memberships.values_list("group__slug", "priority")) == [
        ("billing", 3),
        ("sales", 1),
    ]
    # Positions follow the order of the rows.
    sales = Membership.objects.filter(group__slug="sales")
    assert sales.get(agent=vikram).position < sales.get(agent=asha).position


def test_status_from_the_file_is_a_manual_change(example_roster, write):
    asha = Agent.objects.get(phone="+919900000001")
    paused_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    Agent.objects.filter(pk=asha.pk).update(
        status=AgentStatus.BREAK,
        status_reason="missed 3 calls",
        status_changed_at=paused_at,
        missed_in_row=3,
    )
    kavya = Agent.objects.get(name="Kavya Reddy")  # on break in the file already
    Agent.objects.filter(pk=kavya.pk).update(
        status_reason="lunch", status_changed_at=paused_at, missed_in_row=1
    )
    now = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)

    summary = import_agents(
        parsed=parse_agents_csv((EXAMPLES / "agents.csv").read_text()), now=now
    )

    asha.refresh_from_db()
    kavya.refresh_from_db()
    assert (summary.updated, summary.unchanged) == (1, 12)
    assert (asha.status, asha.status_reason, asha.missed_in_row) == ("available", "", 0)
    assert asha.status_changed_at == now
    # The same status: the reason, the time and the count stay.
    assert (kavya.status_reason, kavya.status_changed_at, kavya.missed_in_row) == (
        "lunch",
        paused_at,
        1,
    )


def test_bom_and_header_case_are_tolerated(write):
    text = (
        "\ufeffSLUG, Name," + ",".join(GROUP_COLUMNS[2:]) + "\nsales,Sales" + "," * 14
    )
    path = write(text, encoding="utf-8")
    assert "1 created" in run("import_groups", path)
    group = AgentGroup.objects.get(slug="sales")
    assert (group.batch_size, group.ring_seconds, group.hold_seconds) == (1, 30, 300)
    assert group.timezone == "Asia/Kolkata"
    assert group.strategy == "sequential"


def test_verbosity_two_lists_each_row(write):
    out = run("import_groups", EXAMPLES / "groups.csv", verbosity=2)
    assert "line 2: created group sales" in out
    assert "line 5: created group after-hours" in out


def test_unreadable_file_is_a_command_error(tmp_path, write):
    with pytest.raises(CommandError, match="cannot read"):
        run("import_agents", tmp_path / "missing.csv")
    path = write("x", encoding="latin-1")
    path.write_bytes(b"name,phone\n\xff\xfe\xfa\n")
    with pytest.raises(CommandError, match="not UTF-8"):
        run("import_agents", path)


# Bad files: every class rejected with its line number, nothing written ------------

SALES = {"slug": "sales", "name": "Sales"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "slug,name,colour\nsales,Sales,red\n",
            "line 1: unknown column 'colour'",
            id="unknown-column",
        ),
        pytest.param(
            "slug,name\nsales,Sales\n",
            "line 1: missing column 'hours'",
            id="missing-column",
        ),
        pytest.param("", "line 1: empty file", id="empty-file"),
        pytest.param(
            groups_file(SALES, {"slug": "x", "name": "X", "strategy": "loudest"}),
            "line 3: unknown strategy 'loudest'",
            id="unknown-strategy",
        ),
        pytest.param(
            groups_file({**SALES, "hours": "Mon-Fri 9am-6pm"}),
            "line 2: bad hours 'Mon-Fri 9am-6pm'",
            id="bad-hours",
        ),
        pytest.param(
            groups_file({**SALES, "timezone": "Asia/Bangalore"}),
            "line 2: unknown timezone 'Asia/Bangalore'",
            id="unknown-timezone",
        ),
        pytest.param(
            groups_file({**SALES, "batch_size": "0"}),
            "line 2: batch_size must be a whole number from 1",
            id="batch-size-zero",
        ),
        pytest.param(
            groups_file({**SALES, "ring_seconds": "-5"}),
            "line 2: ring_seconds must be a whole number",
            id="negative-number",
        ),
        pytest.param(
            groups_file({**SALES, "hold_seconds": "5 min"}),
            "line 2: hold_seconds must be a whole number",
            id="number-with-unit",
        ),
        pytest.param(
            groups_file({**SALES, "fallback_numbers": "+919900000001;12345"}),
            "line 2: invalid fallback number '12345'",
            id="invalid-fallback-number",
        ),
        pytest.param(
            groups_file({**SALES, "exophones": "call-us"}),
            "line 2: invalid exophone 'call-us'",
            id="invalid-exophone",
        ),
        pytest.param(
            groups_file({**SALES, "digits": "1"}),
            "line 2: digits need exophones",
            id="digits-without-exophones",
        ),
        pytest.param(
            groups_file({"slug": "sales team", "name": "Sales"}),
            "line 2: slug 'sales team' is not a slug",
            id="bad-slug",
        ),
        pytest.param(
            groups_file(SALES, {"slug": "sales", "name": "Sales again"}),
            "line 3: duplicate slug sales (first on line 2)",
            id="duplicate-slug",
        ),
        pytest.param(
            groups_file({**SALES, "overflow": "nowhere"}),
            "line 2: overflow to unknown group 'nowhere'",
            id="overflow-to-unknown-group",
        ),
        pytest.param(
            groups_file({**SALES, "overflow": "sales"}),
            "line 2: group 'sales' cannot overflow to itself",
            id="self-overflow",
        ),
        pytest.param(
            groups_file(
                {**SALES, "overflow": "support"},
                {"slug": "support", "name": "Support", "overflow": "sales"},
            ),
            "line 2: overflow cycle sales -> support -> sales",
            id="overflow-cycle-in-file",
        ),
        pytest.param(
            groups_file({**SALES, "overflow": "stored"}),
            "line 2: overflow cycle sales -> stored -> sales",
            id="overflow-cycle-through-database",
        ),
        pytest.param(
            groups_file(
                {**SALES, "exophones": "08047190001", "digits": "1"},
                {"slug": "b", "name": "B", "exophones": "+918047190001", "digits": "1"},
            ),
            "line 3: route ExoPhone +918047190001 with digits 1 is already taken by "
            "group 'sales' (line 2)",
            id="route-taken-in-file",
        ),
        pytest.param(
            groups_file({**SALES, "exophones": "*"}),
            "line 2: route any ExoPhone is already taken by group 'stored' "
            "(in the database)",
            id="route-taken-in-database",
        ),
        pytest.param(
            "slug,name\n" + "sales,Sales,extra\n",
            "missing column",
            id="header-errors-first",
        ),
    ],
)
def test_bad_groups_file_is_rejected_whole(text, expected, write, make_group):
    # A stored group overflowing to 'sales' and taking the default route.
    stored = make_group(slug="stored", name="Stored", exophones="*")
    sales = make_group(slug="sales", name="Old sales")
    AgentGroup.objects.filter(pk=stored.pk).update(overflow=sales)
    before = roster_snapshot()

    with pytest.raises(CommandError) as raised:
        run("import_groups", write(text))

    assert expected in str(raised.value)
    assert roster_snapshot() == before


def test_every_bad_row_is_reported_and_good_rows_are_not_written(write):
    text = groups_file(
        {"slug": "good", "name": "Good"},
        {"slug": "bad1", "name": "Bad", "strategy": "loudest"},
        {"slug": "good2", "name": "Good 2"},
        {"slug": "bad2", "name": "Bad", "timezone": "Mars/Olympus"},
    )

    with pytest.raises(CommandError) as raised:
        run("import_groups", write(text))

    message = str(raised.value)
    assert "line 3: unknown strategy" in message
    assert "line 5: unknown timezone" in message
    assert not AgentGroup.objects.exists()


ASHA = {"name": "Asha Rao", "phone": "+919900000001", "groups": "sales"}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(
            {**ASHA, "phone": "12345"},
            "line 3: invalid phone '12345'",
            id="invalid-phone",
        ),
        pytest.param(
            {**ASHA, "phone": "+919900000002"},
            None,
            id="control-a-good-row-loads",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002"},
            None,
            id="control-national-format-loads",
        ),
        pytest.param(
            {**ASHA, "phone": "+91 99000 00001"},
            "line 3: duplicate phone +919900000001 (first on line 2)",
            id="duplicate-phone-in-another-format",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "groups": "sales;marketing"},
            "line 3: unknown group 'marketing'",
            id="unknown-group",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "groups": "sales:0"},
            "line 3: priority '0' for group 'sales'",
            id="priority-zero",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "groups": "sales:first"},
            "line 3: priority 'first' for group 'sales'",
            id="priority-not-a-number",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "groups": "sales;sales:2"},
            "line 3: group 'sales' is listed twice",
            id="group-listed-twice",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "status": "lunch"},
            "line 3: unknown status 'lunch'",
            id="unknown-status",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "active": "maybe"},
            "line 3: active must be yes or no",
            id="bad-active",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "timezone": "IST"},
            "line 3: unknown timezone 'IST'",
            id="unknown-timezone",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "hours": "Weekdays 09:00-18:00"},
            "line 3: unknown day 'Weekdays'",
            id="bad-hours",
        ),
        pytest.param(
            {**ASHA, "phone": "09900000002", "name": ""},
            "line 3: name is empty",
            id="empty-name",
        ),
    ],
)
def test_bad_agents_file_is_rejected_whole(row, expected, write, make_group):
    make_group(slug="sales", name="Sales")
    before = roster_snapshot()
    path = write(agents_file(ASHA, row))

    if expected is None:
        assert "2 created" in run("import_agents", path)
        return
    with pytest.raises(CommandError) as raised:
        run("import_agents", path)

    assert expected in str(raised.value)
    assert roster_snapshot() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "name,phone,groups,status,active,timezone,hours,email\n",
            "line 1: unknown column 'email'",
            id="unknown-column",
        ),
        pytest.param(
            "name,phone,groups,status,active,timezone\n",
            "line 1: missing column 'hours'",
            id="missing-column",
        ),
        pytest.param(
            "name,phone,phone,groups,status,active,timezone,hours\n",
            "line 1: column 'phone' appears twice",
            id="repeated-column",
        ),
        pytest.param(
            agents_file(ASHA) + "Ravi,+919900000003\n",
            "line 3: expected 7 fields, found 2",
            id="short-row",
        ),
        pytest.param(
            agents_file(ASHA) + '\n\nRavi,"+91990000\n0003",sales,,,,\n',
            "line 5: invalid phone",
            id="line-number-after-blank-lines",
        ),
    ],
)
def test_bad_agents_file_structure(text, expected, write, make_group):
    make_group(slug="sales", name="Sales")

    with pytest.raises(CommandError) as raised:
        run("import_agents", write(text))

    assert expected in str(raised.value)
    assert not Agent.objects.exists()


def test_holidays_survive_a_groups_import(example_roster):
    sales = AgentGroup.objects.get(slug="sales")
    Holiday.objects.create(group=sales, date=dt.date(2025, 8, 15), name="Independence")

    run("import_groups", EXAMPLES / "groups.csv")

    assert sales.holidays.count() == 1


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (
            "import_agents",
            agents_file(
                {"name": "Asha", "phone": "+919900000001"},
                {"name": "Ba\x00la", "phone": "+919900000002"},
            ),
        ),
        (
            "import_agents",
            agents_file(
                {"name": "Asha", "phone": "+919900000001"},
                {"name": "Bala", "phone": "+9199000\x0000002"},
            ),
        ),
        (
            "import_groups",
            groups_file(
                {"slug": "a", "name": "A"}, {"slug": "b", "name": "B", "hours": "\x00"}
            ),
        ),
    ],
    ids=["agent-name", "agent-phone", "group-hours"],
)
def test_a_nul_in_a_cell_is_a_row_error(command, text, write):
    with pytest.raises(CommandError, match=r"line 3: NUL character in column"):
        run(command, write(text))
    assert not Agent.objects.exists() and not AgentGroup.objects.exists()


def test_streamed_import_and_export_in_small_chunks(
    example_roster, write, monkeypatch, tmp_path
):
    # Issue 18, item 13: chunks of 3 over 13 agents (a partial last chunk), the
    # agents of a group split across chunks; the same files and the same rows as
    # in one piece.
    whole_export = run("export_agents", "-")
    monkeypatch.setattr("agents.roster_files.EXPORT_CHUNK", 3)
    monkeypatch.setattr("agents.roster_files.IMPORT_CHUNK", 3)
    assert run("export_agents", "-") == whole_export
    target = tmp_path / "agents.csv"
    assert "Exported 13 agents" in run("export_agents", target)
    assert target.read_text(encoding="utf-8") == whole_export
    before = roster_snapshot()
    assert "0 created, 0 updated, 13 unchanged" in run("import_agents", target)
    assert roster_snapshot() == before

    # A fresh database: created in chunks, with their hours and memberships.
    Agent.objects.all().delete()
    assert "13 created, 0 updated, 0 unchanged" in run("import_agents", target)
    assert run("export_agents", "-") == whole_export
    # Reordered and edited: positions follow the new file across chunks.
    lines = whole_export.splitlines()
    reordered = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    out = run("import_agents", write(reordered.replace("Asha Rao", "Asha R.")))
    assert "0 created" in out and "unchanged" in out
    assert Agent.objects.filter(name="Asha R.").exists()
    assert run("export_agents", "-").splitlines()[1:] != lines[1:]
