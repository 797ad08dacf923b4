"""Skills, routes and callers files (DESIGN 10.1-10.3): parsers, services, commands."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError

from agents.importers import CALLER_COLUMNS, ROUTE_COLUMNS
from agents.models import Agent, AgentGroup, AgentSkill, Caller, Route, Skill
from tests.agents.test_roster_files import csv_text, run

pytestmark = pytest.mark.django_db

AGENTS_WITH_SKILLS = (
    "name,phone,groups,status,active,timezone,hours,skills\n"
    "Asha,+919900000001,support,,,,,Hindi:4;tamil\n"
    "Ravi,+919900000002,support,,,,,\n"
)


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def skilled(write):
    AgentGroup.objects.create(slug="support", name="Support")
    AgentGroup.objects.create(slug="english", name="English", exophones="08047190009")
    run("import_agents", write(AGENTS_WITH_SKILLS, "agents.csv"))


def routes_file(*rows) -> str:
    return csv_text(ROUTE_COLUMNS, rows)


def callers_file(*rows) -> str:
    return csv_text(CALLER_COLUMNS, rows)


# Skills ----------------------------------------------------------------------------


def test_skills_column_sets_levels_lower_cased_default_3(skilled):
    asha = Agent.objects.get(name="Asha")
    assert sorted(asha.skills.values_list("skill_id", "level")) == [
        ("hindi", 4),
        ("tamil", 3),
    ]
    assert set(Skill.objects.values_list("name", flat=True)) == {"hindi", "tamil"}


def test_export_writes_skills_sorted_and_imports_back_unchanged(skilled, write):
    exported = run("export_agents", "-")
    assert "Asha,+919900000001,support,available,yes,Asia/Kolkata,,hindi:4;tamil:3" in (
        exported
    )
    out = run("import_agents", write(exported, "again.csv"))
    assert "0 created, 0 updated, 2 unchanged" in out


def test_absent_skills_column_leaves_skills_and_empty_cell_clears(skilled, write):
    run(
        "import_agents",
        write(
            "name,phone,groups,status,active,timezone,hours\n"
            "Asha,+919900000001,support,,,,\n",
            "no-column.csv",
        ),
    )
    assert AgentSkill.objects.filter(agent__name="Asha").count() == 2
    run(
        "import_agents",
        write(
            "name,phone,groups,status,active,timezone,hours,skills\n"
            "Asha,+919900000001,support,,,,,\n",
            "empty.csv",
        ),
    )
    assert AgentSkill.objects.filter(agent__name="Asha").count() == 0


@pytest.mark.parametrize(
    "cell, reason",
    [
        ("hindi:6", "line 2: level '6' of skill 'hindi' must be a whole number"),
        ("hindi:0", "line 2: level '0'"),
        ("hin di", "line 2: skill 'hin di' must be 1-40 of a-z"),
        ("hindi;HINDI:2", "line 2: skill 'hindi' is listed twice"),
        ("x" * 41, "line 2: skill 'xxxx"),
    ],
    ids=["level-above-5", "level-0", "space-in-name", "twice", "name-too-long"],
)
def test_bad_skill_is_a_line_numbered_error_and_writes_nothing(
    skilled, write, cell, reason
):
    path = write(
        "name,phone,groups,status,active,timezone,hours,skills\n"
        f"Asha,+919900000001,support,,,,,{cell}\n",
        "bad.csv",
    )
    with pytest.raises(CommandError, match=reason.replace("(", r"\(")):
        run("import_agents", path)
    assert AgentSkill.objects.filter(agent__name="Asha").count() == 2


# Routes ----------------------------------------------------------------------------

ROUTES = routes_file(
    {
        "slug": "tamil-billing",
        "group": "support",
        "needs": "Tamil:3;billing",
        "relax_after": "60",
        "exophones": "08047190001",
        "digits": "2",
    },
    {"slug": "hindi", "group": "support", "needs": "hindi", "relax_after": "0"},
    {"slug": "vip-line", "group": "support", "exophones": "08047190001"},
)


def test_import_routes_then_export_is_a_no_op(skilled, write):
    out = run("import_routes", write(ROUTES, "routes.csv"))
    assert "3 created" in out
    route = Route.objects.get(slug="tamil-billing")
    assert (route.needs, route.relax_after, route.exophones, route.digits) == (
        "billing:1;tamil:3",
        60,
        "+918047190001",
        "2",
    )
    assert Route.objects.get(slug="vip-line").relax_after is None
    assert Skill.objects.filter(name="billing").exists()
    exported = run("export_routes", "-")
    assert "tamil-billing,support,billing:1;tamil:3,60,+918047190001,2" in exported
    again = run("import_routes", write(exported, "again.csv"))
    assert "0 created, 0 updated, 3 unchanged" in again


def test_a_need_nobody_has_is_imported_with_a_warning(skilled, write):
    err = io.StringIO()
    run("import_routes", write(ROUTES, "routes.csv"), stderr=err)
    assert "route tamil-billing needs billing:1, which no active agent has" in (
        err.getvalue()
    )


def test_delete_missing_deletes_routes_absent_from_the_file(skilled, write):
    run("import_routes", write(ROUTES, "routes.csv"))
    out = run(
        "import_routes",
        write(routes_file({"slug": "hindi", "group": "support"}), "one.csv"),
        delete_missing=True,
    )
    assert "2 deleted" in out
    assert list(Route.objects.values_list("slug", flat=True)) == ["hindi"]


@pytest.mark.parametrize(
    "row, reason",
    [
        ({"slug": "r", "group": "nope"}, "line 2: unknown group 'nope'"),
        ({"slug": "support", "group": "support"}, "line 2: slug 'support' is already"),
        ({"slug": "r", "group": "support", "relax_after": "-1"}, "line 2: relax_after"),
        ({"slug": "r", "group": "support", "relax_after": "1.5"}, "line 2: relax_"),
        ({"slug": "r", "group": "support", "needs": "tamil:9"}, "line 2: level '9'"),
        (
            {"slug": "r", "group": "support", "exophones": "08047190009"},
            "line 2: route ExoPhone \\+918047190009 is already taken by group "
            "'english' \\(in the database\\)",
        ),
    ],
    ids=[
        "unknown-group",
        "slug-of-a-group",
        "negative-relax",
        "fractional-relax",
        "need-level-9",
        "pair-of-a-group",
    ],
)
def test_bad_route_names_its_line_and_writes_nothing(skilled, write, row, reason):
    with pytest.raises(CommandError, match=reason):
        run("import_routes", write(routes_file(row), "bad.csv"))
    assert not Route.objects.exists()


def test_a_pair_claimed_by_two_routes_names_both_lines(skilled, write):
    text = routes_file(
        {"slug": "a", "group": "support", "exophones": "08047190001", "digits": "1"},
        {"slug": "b", "group": "support", "exophones": "08047190001", "digits": "1"},
    )
    with pytest.raises(CommandError) as raised:
        run("import_routes", write(text, "clash.csv"))
    message = str(raised.value)
    assert "line 2: route ExoPhone +918047190001 with digits 1 is already taken by "
    assert "route 'b' (line 3)" in message
    assert "route 'a' (line 2)" in message


def test_import_groups_refuses_a_route_slug_and_a_route_pair(skilled, write):
    run("import_routes", write(ROUTES, "routes.csv"))
    groups = (
        "slug,name,strategy,batch_size,ring_seconds,max_attempts,wrapup_seconds,"
        "hold_seconds,sticky_days,missed_to_pause,overflow,fallback_numbers,"
        "exophones,digits,timezone,hours\n"
        "hindi,Hindi,,,,,,,,,,,,,,\n"
        "other,Other,,,,,,,,,,,08047190001,2,,\n"
    )
    with pytest.raises(CommandError) as raised:
        run("import_groups", write(groups, "groups.csv"))
    message = str(raised.value)
    assert "line 2: slug 'hindi' is already a route's" in message
    assert (
        "line 3: route ExoPhone +918047190001 with digits 2 is already taken by "
        in (message)
    )
    assert "route 'tamil-billing' (in the database)" in message


def test_vip_group_column_imports_and_exports(skilled, write):
    groups = (
        "slug,name,strategy,batch_size,ring_seconds,max_attempts,wrapup_seconds,"
        "hold_seconds,sticky_days,missed_to_pause,overflow,fallback_numbers,"
        "exophones,digits,timezone,hours,vip_group\n"
        "support,Support,,,,,,,,,,,,,,,english\n"
    )
    run("import_groups", write(groups, "groups.csv"))
    assert AgentGroup.objects.get(slug="support").vip_group.slug == "english"
    assert ",english\n" in run("export_groups", "-")
    bad = groups.replace(",english\n", ",nowhere\n")
    with pytest.raises(CommandError, match="line 2: vip_group is an unknown group"):
        run("import_groups", write(bad, "bad.csv"))


# Callers ---------------------------------------------------------------------------

CALLERS = callers_file(
    {
        "number": "09811111111",
        "name": "Meena Traders",
        "owner": "9900000001",
        "binding": "strict",
        "needs": "Tamil:2",
        "notes": "Prefers mornings",
    },
    {"number": "+91 98222 22222", "vip": "yes"},
    {"number": "919833333333", "blocked": "yes"},
)


def test_import_callers_normalises_and_export_is_a_no_op(skilled, write):
    out = run("import_callers", write(CALLERS, "callers.csv"))
    assert "3 created" in out
    meena = Caller.objects.get(number="+919811111111")
    assert (meena.owner.name, meena.binding, meena.needs) == (
        "Asha",
        "strict",
        "tamil:2",
    )
    assert Caller.objects.get(number="+919822222222").vip
    assert Caller.objects.get(number="+919833333333").blocked
    exported = run("export_callers", "-")
    assert "+919811111111,Meena Traders,+919900000001,strict,no,no,tamil:2," in exported
    again = run("import_callers", write(exported, "again.csv"))
    assert "0 created, 0 updated, 3 unchanged" in again


@pytest.mark.parametrize(
    "row, reason",
    [
        ({"number": "12"}, "invalid number '12'"),
        (
            {"number": "09811111111", "binding": "strict"},
            "binding strict needs an owner",
        ),
        ({"number": "09811111111", "binding": "tight"}, "binding must be loose or str"),
        (
            {"number": "09811111111", "owner": "09700000000"},
            "owner \\+919700000000 is no",
        ),
        ({"number": "09811111111", "vip": "maybe"}, "vip must be yes or no"),
        ({"number": "09811111111", "needs": "tamil:7"}, "level '7'"),
    ],
    ids=[
        "bad-number",
        "strict-no-owner",
        "bad-binding",
        "owner-not-agent",
        "vip",
        "need",
    ],
)
def test_bad_caller_names_its_line_and_writes_nothing(skilled, write, row, reason):
    text = callers_file({"number": "09899999999"}, row)
    with pytest.raises(CommandError, match=f"line 3: .*{reason}"):
        run("import_callers", write(text, "bad.csv"))
    assert not Caller.objects.exists()


def test_a_duplicate_number_names_both_lines(skilled, write):
    text = callers_file({"number": "09811111111"}, {"number": "+919811111111"})
    with pytest.raises(
        CommandError,
        match=r"line 3: duplicate number \+919811111111 \(first on line 2\)",
    ):
        run("import_callers", write(text, "dup.csv"))


def test_callers_dry_run_and_delete_missing(skilled, write):
    run("import_callers", write(CALLERS, "callers.csv"), dry_run=True)
    assert not Caller.objects.exists()
    run("import_callers", write(CALLERS, "callers.csv"))
    out = run(
        "import_callers",
        write(callers_file({"number": "09811111111"}), "one.csv"),
        delete_missing=True,
    )
    assert "2 deleted" in out and "1 updated" in out
    assert list(Caller.objects.values_list("number", flat=True)) == ["+919811111111"]


def test_callers_import_in_batches(skilled, write, monkeypatch):
    monkeypatch.setattr("agents.caller_files.BATCH", 2)
    rows = [{"number": f"0981111{n:04d}"} for n in range(7)]
    assert "7 created" in run("import_callers", write(callers_file(*rows), "c.csv"))
    assert Caller.objects.count() == 7
