"""The admin's group form refuses whatever import_groups refuses (issue 18, item 1)."""

import io

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from agents.models import AgentGroup

pytestmark = pytest.mark.django_db

FIELDS = {
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
    "exophones": "",
    "digits": "",
}


@pytest.fixture
def alpha_supervisor(make_group):
    alpha = make_group(slug="alpha", name="Alpha")
    make_group(slug="bravo", name="Bravo", exophones="+918047190001", digits="2")
    user = get_user_model().objects.create_user("sup", password="x", is_staff=True)
    alpha.supervisors.add(user)
    return user


def group_form(user, group, **data):
    request = RequestFactory().get("/")
    request.user = user
    form_class = admin.site._registry[AgentGroup].get_form(request, group)
    values = FIELDS | {"name": group.name, "slug": group.slug} | data
    if group.overflow_id:
        values.setdefault("overflow", group.overflow_id)
    return form_class(data=values, instance=group)


def test_scoped_supervisor_cannot_take_another_groups_route(alpha_supervisor):
    alpha = AgentGroup.objects.get(slug="alpha")
    form = group_form(alpha_supervisor, alpha, exophones="08047190001", digits='"2"')
    assert not form.is_valid()
    assert form.non_field_errors() == [
        "route ExoPhone +918047190001 with digits 2 is already taken by "
        "another group (in the database)"
    ]
    alpha.refresh_from_db()
    assert alpha.exophones == ""


def test_default_route_taken_twice_is_refused(admin_user, make_group):
    make_group(slug="default", exophones="*")
    other = make_group(slug="other")
    form = group_form(admin_user, other, exophones="*")
    assert not form.is_valid()
    assert form.non_field_errors() == [
        "route any ExoPhone is already taken by group 'default' (in the database)"
    ]


def test_overflow_cycle_is_refused(admin_user, make_group):
    first = make_group(slug="first")
    second = make_group(slug="second", overflow=first)
    form = group_form(admin_user, first, overflow=second.pk)
    assert not form.is_valid()
    assert form.non_field_errors() == ["overflow cycle first -> second -> first"]


def test_renamed_group_is_checked_under_its_new_slug(admin_user, make_group):
    first = make_group(slug="first")
    second = make_group(slug="second", overflow=first)
    form = group_form(admin_user, first, slug="renamed", overflow=second.pk)
    assert not form.is_valid()
    assert form.non_field_errors() == ["overflow cycle renamed -> second -> renamed"]


def test_own_routes_and_free_routes_are_accepted(admin_user, make_group):
    make_group(slug="bravo", exophones="+918047190001", digits="2")
    alpha = make_group(slug="alpha", exophones="+918047190001", digits="1")
    form = group_form(admin_user, alpha, exophones="+918047190001", digits="1")
    assert form.is_valid(), form.errors
    form = group_form(admin_user, alpha, exophones="+918047190001", digits="3")
    assert form.is_valid(), form.errors


def test_what_the_admin_accepts_exports_and_imports_as_a_no_op(
    admin_user, make_group, tmp_path
):
    make_group(slug="bravo", exophones="+918047190001", digits="2")
    alpha = make_group(slug="alpha")
    form = group_form(admin_user, alpha, exophones="+918047190001", digits="1")
    assert form.is_valid(), form.errors
    form.save()
    path = tmp_path / "groups.csv"
    call_command("export_groups", path, stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_groups", path, stdout=out)
    assert "0 created, 0 updated, 2 unchanged" in out.getvalue()
