"""The routes file of DESIGN 10.2: imported into the database, exported from it."""

from collections import defaultdict

from django.db import transaction

from agents.importers import ROUTE_COLUMNS, Parsed, RosterFileError, RouteRow, RowError
from agents.models import AgentGroup, AgentSkill, Route
from agents.roster_files import (
    ImportSummary,
    ensure_skills,
    group_routes,
    pair_clashes,
    write_csv,
)
from agents.skills import format_levels


def check_routes(
    rows: list[RouteRow], groups: dict[str, AgentGroup], stored: dict[str, Route]
) -> list[RowError]:
    """Return what is wrong with `rows` beside the groups and routes stored."""
    errors = []
    for row in rows:
        if row.group not in groups:
            errors.append(RowError(row.line, f"unknown group {row.group!r}"))
        if row.slug in groups:
            errors.append(
                RowError(
                    row.line,
                    f"slug {row.slug!r} is already a group's (in the database); "
                    "routes and groups share one namespace",
                )
            )
    in_file = {row.slug for row in rows}
    owners: dict[tuple[str, str], list[tuple[str, int | None]]] = defaultdict(list)
    for slug, group in groups.items():
        for pair in group_routes(group.exophone_list, group.digits):
            owners[pair].append((f"group {slug!r}", None))
    for slug, route in stored.items():
        if slug not in in_file:
            for pair in group_routes(route.exophone_list, route.digits):
                owners[pair].append((f"route {slug!r}", None))
    for row in rows:
        for pair in group_routes(list(row.exophones), row.digits):
            owners[pair].append((f"route {row.slug!r}", row.line))
    return errors + pair_clashes(owners)


def route_values(row: RouteRow, groups: dict[str, AgentGroup]) -> dict:
    return {
        "group_id": groups[row.group].pk,
        "needs": format_levels(row.needs),
        "relax_after": row.relax_after,
        "exophones": ";".join(row.exophones),
        "digits": row.digits,
    }


def unmet_needs(rows: list[RouteRow]) -> list[str]:
    """Warnings: needs that no active agent meets (they show as coverage gaps)."""
    warnings = []
    for row in rows:
        for name, level in row.needs:
            if not AgentSkill.objects.filter(
                skill_id=name, level__gte=level, agent__active=True
            ).exists():
                warnings.append(
                    f"line {row.line}: route {row.slug} needs {name}:{level}, "
                    "which no active agent has"
                )
    return warnings


def import_routes(
    *, parsed: Parsed, delete_missing: bool = False, dry_run: bool = False
) -> ImportSummary:
    """Create or update the routes of a parsed routes file, all or nothing.

    With `delete_missing`, routes absent from the file are deleted. Raise
    RosterFileError listing every bad row; nothing is written then.
    """
    summary = ImportSummary(dry_run=dry_run)
    with transaction.atomic():
        groups = {group.slug: group for group in AgentGroup.objects.all()}
        stored = {route.slug: route for route in Route.objects.all()}
        errors = parsed.errors + check_routes(parsed.rows, groups, stored)
        if errors:
            raise RosterFileError(errors)
        ensure_skills(name for row in parsed.rows for name, _ in row.needs)
        for row in parsed.rows:
            values = route_values(row, groups)
            route = stored.get(row.slug)
            if route is None:
                Route.objects.create(slug=row.slug, **values)
                summary.count("created", row.line, f"route {row.slug}")
                continue
            fields = [
                name for name, value in values.items() if getattr(route, name) != value
            ]
            for name in fields:
                setattr(route, name, values[name])
            if fields:
                route.save(update_fields=fields)
            summary.count(
                "updated" if fields else "unchanged", row.line, f"route {row.slug}"
            )
        if delete_missing:
            missing = Route.objects.exclude(slug__in=[row.slug for row in parsed.rows])
            for slug in missing.values_list("slug", flat=True):
                summary.details.append(f"deleted route {slug}")
            summary.deleted, _ = missing.delete()
        summary.warnings = unmet_needs(parsed.rows)
        if dry_run:
            transaction.set_rollback(True)
    return summary


def export_routes() -> str:
    """Return every route as a routes file (DESIGN 10.2)."""
    return write_csv(
        ROUTE_COLUMNS,
        [
            {
                "slug": route.slug,
                "group": route.group.slug,
                "needs": route.needs,
                "relax_after": "" if route.relax_after is None else route.relax_after,
                "exophones": route.exophones,
                "digits": route.digits,
            }
            for route in Route.objects.select_related("group").order_by("slug")
        ],
    )
