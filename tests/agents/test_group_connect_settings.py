"""A group's Programmable Connect settings: model, admin, and the groups file."""

import csv
import io
import re

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.test import RequestFactory
from django.urls import reverse

from agents.importers import GROUP_COLUMNS, GROUP_CONNECT_COLUMNS, GROUP_VIP_COLUMN
from agents.models import AgentGroup
from tests.agents.test_roster_files import csv_text, roster_snapshot, run

pytestmark = pytest.mark.django_db

ALL_COLUMNS = (*GROUP_COLUMNS, *GROUP_CONNECT_COLUMNS, GROUP_VIP_COLUMN)
SET = {
    "parallel_ringing": True,
    "fetch_after_attempt": False,
    "caller_id": "+918047190001",
    "record": True,
    "recording_channels": "dual",
    "max_conversation_seconds": 3600,
    "music_on_hold": "operator_tone",
    "connect_message": 'Hello, "sales" here, this call may be recorded',
    "connect_message_to": "callee",
    "service_level_seconds": 15,
}


def connect_settings(group: AgentGroup) -> dict:
    group.refresh_from_db()
    return {column: getattr(group, column) for column in GROUP_CONNECT_COLUMNS}


@pytest.fixture
def write(tmp_path):
    def write(text: str):
        path = tmp_path / "groups.csv"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_defaults_leave_every_optional_field_out():
    group = AgentGroup.objects.create(slug="sales", name="Sales")
    assert connect_settings(group) == {
        "parallel_ringing": False,
        "fetch_after_attempt": True,
        "caller_id": "",
        "record": None,
        "recording_channels": "",
        "max_conversation_seconds": None,
        "music_on_hold": "",
        "connect_message": "",
        "connect_message_to": "both",
        "service_level_seconds": 20,
    }


@pytest.mark.parametrize(
    ("caller_id", "stored"),
    [
        pytest.param("08047190001", "+918047190001", id="national-stored-as-e164"),
        pytest.param("  ", "", id="blank-left-out"),
    ],
)
def test_clean_normalises_the_caller_id(caller_id, stored):
    group = AgentGroup(slug="sales", name="Sales", caller_id=caller_id)
    group.clean()
    assert group.caller_id == stored


def test_clean_rejects_a_caller_id_that_is_no_number():
    group = AgentGroup(slug="sales", name="Sales", caller_id="12")
    with pytest.raises(ValidationError) as raised:
        group.clean()
    assert "caller_id" in raised.value.message_dict


# The admin ---------------------------------------------------------------------


def test_group_page_has_the_connect_fieldset(admin_client):
    group = AgentGroup.objects.create(slug="sales", name="Sales")
    page = admin_client.get(
        reverse("admin:agents_agentgroup_change", args=[group.pk])
    ).content.decode()
    assert "Programmable Connect" in page
    for column in GROUP_CONNECT_COLUMNS:
        assert f'name="{column}"' in page, column


def admin_form(admin_user, **data):
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = admin.site._registry[AgentGroup]
    form_class = model_admin.get_form(request, None)
    fields = {
        "name": "Sales",
        "slug": "sales",
        "strategy": "sequential",
        "timezone": "Asia/Kolkata",
        "batch_size": 1,
        "ring_seconds": 30,
        "max_attempts": 0,
        "wrapup_seconds": 30,
        "hold_seconds": 300,
        "sticky_days": 0,
        "missed_to_pause": 0,
        "connect_message_to": "both",
        "service_level_seconds": 20,
        "fetch_after_attempt": "on",
        "record": "unknown",
    }
    return form_class(data=fields | data)


def test_admin_form_stores_the_settings(admin_user):
    form = admin_form(
        admin_user,
        parallel_ringing="on",
        caller_id="08047190001",
        record="true",
        recording_channels="single",
        max_conversation_seconds="600",
        music_on_hold="default_tone",
        connect_message="Connecting you",
    )
    assert form.is_valid(), form.errors
    group = form.save()
    assert connect_settings(group) == {
        "parallel_ringing": True,
        "fetch_after_attempt": True,
        "caller_id": "+918047190001",
        "record": True,
        "recording_channels": "single",
        "max_conversation_seconds": 600,
        "music_on_hold": "default_tone",
        "connect_message": "Connecting you",
        "connect_message_to": "both",
        "service_level_seconds": 20,
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"caller_id": "12"}, "caller_id", id="caller-id-no-number"),
        pytest.param(
            {"max_conversation_seconds": "0"},
            "max_conversation_seconds",
            id="conversation-of-zero-seconds",
        ),
        pytest.param(
            {"service_level_seconds": "0"},
            "service_level_seconds",
            id="service-level-of-zero-seconds",
        ),
        pytest.param(
            {"music_on_hold": "jazz"}, "music_on_hold", id="unknown-music-on-hold"
        ),
    ],
)
def test_admin_form_rejects_bad_settings(admin_user, data, field):
    form = admin_form(admin_user, **data)
    assert not form.is_valid()
    assert field in form.errors


# The groups file ---------------------------------------------------------------


def old_file(**cells) -> str:
    """Return a groups file written before the Connect columns existed."""
    return csv_text(GROUP_COLUMNS, [{"slug": "sales", "name": "Sales", **cells}])


def new_file(**cells) -> str:
    return csv_text(ALL_COLUMNS, [{"slug": "sales", "name": "Sales", **cells}])


def cells(values: dict) -> dict[str, str]:
    return {
        column: ("yes" if value else "no") if isinstance(value, bool) else str(value)
        for column, value in values.items()
    }


def test_an_old_file_keeps_the_stored_settings(write):
    group = AgentGroup.objects.create(slug="sales", name="Sales", **SET)
    before = roster_snapshot()

    assert "0 created, 0 updated, 1 unchanged" in run(
        "import_groups", write(old_file())
    )

    assert roster_snapshot() == before
    assert connect_settings(group) == SET


def test_an_old_file_creates_groups_with_the_defaults(write):
    run("import_groups", write(old_file()))
    group = AgentGroup.objects.get(slug="sales")
    assert connect_settings(group) == connect_settings(
        AgentGroup.objects.create(slug="other", name="Other")
    )


def test_a_file_may_carry_only_some_of_the_columns(write):
    group = AgentGroup.objects.create(slug="sales", name="Sales", **SET)
    text = csv_text(
        (*GROUP_COLUMNS, "parallel_ringing"),
        [{"slug": "sales", "name": "Sales", "parallel_ringing": "no"}],
    )

    assert "1 updated" in run("import_groups", write(text))

    assert connect_settings(group) == SET | {"parallel_ringing": False}


def test_the_columns_set_the_settings(write):
    run("import_groups", write(new_file(**cells(SET) | {"caller_id": "08047190001"})))
    assert connect_settings(AgentGroup.objects.get(slug="sales")) == SET


def test_empty_cells_are_the_defaults(write):
    group = AgentGroup.objects.create(slug="sales", name="Sales", **SET)

    run("import_groups", write(new_file()))

    assert connect_settings(group) == connect_settings(
        AgentGroup.objects.create(slug="other", name="Other")
    )


def test_export_writes_the_columns_and_imports_back_unchanged(write):
    AgentGroup.objects.create(slug="sales", name="Sales", **SET)
    AgentGroup.objects.create(slug="support", name="Support")
    exported = run("export_groups", "-")
    before = roster_snapshot()

    rows = {row["slug"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert tuple(rows["sales"]) == ALL_COLUMNS
    assert {column: rows["sales"][column] for column in SET} == cells(SET)
    assert rows["support"]["record"] == ""
    assert rows["support"]["max_conversation_seconds"] == ""
    assert "0 created, 0 updated, 2 unchanged" in run("import_groups", write(exported))
    assert roster_snapshot() == before
    assert run("export_groups", "-") == exported


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param(
            {"parallel_ringing": "maybe"},
            "parallel_ringing must be yes or no, not 'maybe'",
            id="parallel-ringing-not-yes-or-no",
        ),
        pytest.param(
            {"record": "1"}, "record must be yes or no", id="record-not-yes-or-no"
        ),
        pytest.param(
            {"caller_id": "12345"},
            "invalid caller_id '12345'",
            id="caller-id-no-number",
        ),
        pytest.param(
            {"recording_channels": "stereo"},
            "unknown recording_channels 'stereo' (use single, dual)",
            id="unknown-recording-channels",
        ),
        pytest.param(
            {"music_on_hold": "jazz"},
            "unknown music_on_hold 'jazz'",
            id="unknown-music-on-hold",
        ),
        pytest.param(
            {"connect_message_to": "agent"},
            "unknown connect_message_to 'agent' (use callee, caller, both)",
            id="unknown-playback-target",
        ),
        pytest.param(
            {"max_conversation_seconds": "0"},
            "max_conversation_seconds must be a whole number from 1",
            id="conversation-of-zero-seconds",
        ),
        pytest.param(
            {"service_level_seconds": "2147483648"},
            "service_level_seconds must be a whole number from 1 to 2147483647",
            id="service-level-too-large",
        ),
        pytest.param(
            {"connect_message": "x" * 501},
            "connect_message is longer than 500 characters",
            id="message-too-long",
        ),
    ],
)
def test_bad_values_are_reported_by_line_and_write_nothing(cell, expected, write):
    group = AgentGroup.objects.create(slug="sales", name="Sales", **SET)
    text = csv_text(
        ALL_COLUMNS,
        [
            {"slug": "other", "name": "Other"},
            {"slug": "sales", "name": "Sales", **cell},
        ],
    )
    before = roster_snapshot()

    with pytest.raises(CommandError, match=re.escape(f"line 3: {expected}")):
        run("import_groups", write(text))

    assert roster_snapshot() == before
    assert connect_settings(group) == SET
