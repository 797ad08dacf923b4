"""The roster files of DESIGN section 3: imported into the database, exported from it."""

import csv
import datetime as dt
import heapq
import io
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import NamedTuple, TextIO

from django.db import transaction
from django.utils import timezone

from agents.csv_cells import defuse
from agents.hours import HoursRow, format_hours
from agents.importers import (
    AGENT_COLUMNS,
    AGENT_SKILLS_COLUMN,
    ANY_EXOPHONE,
    GROUP_COLUMNS,
    GROUP_CONNECT_COLUMNS,
    GROUP_VIP_COLUMN,
    AgentRow,
    GroupRow,
    Parsed,
    RosterFileError,
    RowError,
)
from agents.models import (
    Agent,
    AgentGroup,
    AgentHours,
    AgentSkill,
    AgentStatus,
    GroupHours,
    Membership,
    Route,
    Skill,
    StatusVia,
)
from agents.planner_statistics import refresh_planner_statistics
from agents.skills import Levels, format_levels
from agents.status import end_due_breaks, set_agent_status

IMPORT_STATUS_REASON = "roster import"


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    deleted: int = 0
    dry_run: bool = False
    details: list[str] = field(default_factory=list)
    # Imported anyway, but worth a look (a need nobody meets).
    warnings: list[str] = field(default_factory=list)
    # A line a row in `details` (for --verbosity 2); off, memory does not grow
    # with the file.
    keep_details: bool = True

    def __str__(self):
        text = (
            f"{self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.deactivated:
            text += f", {self.deactivated} deactivated"
        if self.deleted:
            text += f", {self.deleted} deleted"
        return text

    def count(self, outcome: str, line: int, label: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if self.keep_details:
            self.details.append(f"line {line}: {outcome} {label}")


def stored_hours(owner) -> list[HoursRow]:
    """Return the prefetched weekly hours of an agent or group as sorted rows."""
    return sorted({HoursRow(h.weekday, h.starts, h.ends) for h in owner.hours.all()})


def group_routes(exophones: list[str], digits: str) -> list[tuple[str, str]]:
    return [(exophone, digits) for exophone in exophones]


def describe_route(route: tuple[str, str]) -> str:
    exophone, digits = route
    where = "any ExoPhone" if exophone == ANY_EXOPHONE else f"ExoPhone {exophone}"
    return f"{where} with digits {digits}" if digits else where


@dataclass(frozen=True)
class GroupLinks:
    """What `check_groups` reads of a group: its overflow and its routes."""

    line: int
    slug: str
    overflow: str
    exophones: tuple[str, ...]
    digits: str
    vip_group: str = ""


def check_groups(
    rows: Sequence[GroupRow | GroupLinks],
    stored: dict[str, AgentGroup],
    *,
    hidden: Collection[str] = (),
) -> list[RowError]:
    """Return what is wrong with `rows` beside the groups already in the database.

    The import and the admin's group form both ask this; groups in `hidden`
    (those the user may not see) are named "another group".
    """

    def named(slug: str) -> str:
        return "another group" if slug in hidden else f"group {slug!r}"

    errors = []
    in_file = {row.slug: row for row in rows}
    overflow = {
        slug: group.overflow.slug if group.overflow else ""
        for slug, group in stored.items()
    }
    overflow.update({row.slug: row.overflow for row in rows})
    for row in rows:
        if row.overflow and row.overflow not in overflow:
            errors.append(
                RowError(row.line, f"overflow to unknown group {row.overflow!r}")
            )
            continue
        chain = [row.slug]
        slug = row.overflow
        while slug and slug not in chain:
            chain.append(slug)
            slug = overflow.get(slug, "")
        if slug == row.slug:
            path = " -> ".join(
                "(another group)" if step in hidden else step for step in [*chain, slug]
            )
            errors.append(RowError(row.line, f"overflow cycle {path}"))

    for row in rows:
        if row.vip_group and row.vip_group not in overflow:
            errors.append(
                RowError(row.line, f"vip_group is an unknown group {row.vip_group!r}")
            )
    routes = {route.slug: route for route in Route.objects.all()}
    for row in rows:
        if row.slug in routes:
            errors.append(
                RowError(
                    row.line,
                    f"slug {row.slug!r} is already a route's (in the database); "
                    "routes and groups share one namespace",
                )
            )
    owners: dict[tuple[str, str], list[tuple[str, int | None]]] = defaultdict(list)
    for slug, group in stored.items():
        if slug not in in_file:
            for route in group_routes(group.exophone_list, group.digits):
                owners[route].append((named(slug), None))
    for route in routes.values():
        for pair in group_routes(route.exophone_list, route.digits):
            owners[pair].append((f"route {route.slug!r}", None))
    for row in rows:
        for route in group_routes(list(row.exophones), row.digits):
            owners[route].append((f"group {row.slug!r}", row.line))
    errors.extend(pair_clashes(owners))
    return errors


def pair_clashes(
    owners: dict[tuple[str, str], list[tuple[str, int | None]]],
) -> list[RowError]:
    """Return an error, on each file line, for every (ExoPhone, digits) pair that
    two owners (groups or routes, `line` None when stored) claim."""
    errors = []
    for route, route_owners in owners.items():
        for name, line in route_owners:
            if line is None:
                continue
            for other, other_line in route_owners:
                if other == name:
                    continue
                where = f"line {other_line}" if other_line else "in the database"
                errors.append(
                    RowError(
                        line,
                        f"route {describe_route(route)} is already taken by "
                        f"{other} ({where})",
                    )
                )
    return errors


def group_values(row: GroupRow) -> dict:
    return {
        "name": row.name,
        "strategy": row.strategy,
        "batch_size": row.batch_size,
        "ring_seconds": row.ring_seconds,
        "max_attempts": row.max_attempts,
        "wrapup_seconds": row.wrapup_seconds,
        "hold_seconds": row.hold_seconds,
        "sticky_days": row.sticky_days,
        "missed_to_pause": row.missed_to_pause,
        "fallback_numbers": ";".join(row.fallback_numbers),
        "exophones": ";".join(row.exophones),
        "digits": row.digits,
        "timezone": row.timezone,
        # Only the Programmable Connect columns the file has: a missing one
        # leaves the stored setting alone.
        **dict(row.connect),
    }


def import_groups(*, parsed: Parsed, dry_run: bool = False) -> ImportSummary:
    """Create or update the groups of a parsed groups file, all or nothing.

    Raise RosterFileError listing every bad row; nothing is written then.
    """
    summary = ImportSummary(dry_run=dry_run)
    with transaction.atomic():
        stored = {
            group.slug: group
            for group in AgentGroup.objects.select_related("overflow").prefetch_related(
                "hours"
            )
        }
        errors = parsed.errors + check_groups(parsed.rows, stored)
        if errors:
            raise RosterFileError(errors)
        outcomes: dict[str, str] = {}
        for row in parsed.rows:
            group = stored.get(row.slug)
            values = group_values(row)
            if group is None:
                group = AgentGroup.objects.create(slug=row.slug, **values)
                GroupHours.objects.bulk_create(
                    GroupHours(group=group, **hours._asdict()) for hours in row.hours
                )
                stored[row.slug] = group
                outcomes[row.slug] = "created"
                continue
            fields = [
                name for name, value in values.items() if getattr(group, name) != value
            ]
            for name in fields:
                setattr(group, name, values[name])
            if fields:
                group.save(update_fields=fields)
            if stored_hours(group) != list(row.hours):
                group.hours.all().delete()
                GroupHours.objects.bulk_create(
                    GroupHours(group=group, **hours._asdict()) for hours in row.hours
                )
                fields.append("hours")
            outcomes[row.slug] = "updated" if fields else "unchanged"
        # Overflow and VIP group last: a row may point at a group created further
        # down the file.
        for row in parsed.rows:
            group = stored[row.slug]
            targets = {"overflow": row.overflow}
            if row.vip_group is not None:
                targets["vip_group"] = row.vip_group
            for name, slug in targets.items():
                target = stored[slug].pk if slug else None
                if getattr(group, f"{name}_id") != target:
                    setattr(group, f"{name}_id", target)
                    group.save(update_fields=[name])
                    if outcomes[row.slug] == "unchanged":
                        outcomes[row.slug] = "updated"
            summary.count(outcomes[row.slug], row.line, f"group {row.slug}")
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run:
        refresh_planner_statistics()
    return summary


class StoredMembership(NamedTuple):
    """A membership as the import compares it: plain values, not a model."""

    pk: int
    priority: int
    position: int
    name: str  # the agent's


def stored_memberships(phones: list[str]) -> dict[tuple[str, int], StoredMembership]:
    """Return the memberships of the agents with `phones`, by (phone, group id)."""
    rows = (
        Membership.objects.filter(agent__phone__in=phones)
        .order_by()
        .values_list(
            "pk", "agent__phone", "group_id", "priority", "position", "agent__name"
        )
        .iterator(chunk_size=IMPORT_CHUNK)
    )
    return {
        (phone.as_e164, group_id): StoredMembership(pk, priority, position, name)
        for pk, phone, group_id, priority, position, name in rows
    }


def membership_positions(
    rows: list[AgentRow],
    groups: dict[str, AgentGroup],
    stored: dict[tuple[str, int], StoredMembership],
) -> dict[tuple[str, int], int]:
    """Return the position of each (phone, group id) the file lists.

    Positions follow the order of rows in the file. A group whose members the file
    lists already in their stored order keeps its positions, so that an exported
    roster imports without a change.
    """
    members: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        for slug, _ in row.groups:
            members[groups[slug].pk].append(row.phone)
    positions = {}
    for group_id, phones in members.items():
        existing = [stored.get((phone, group_id)) for phone in phones]
        keys = [
            (membership.position, membership.name) if membership else None
            for membership in existing
        ]
        keep = None not in keys and all(a <= b for a, b in pairwise(keys))
        for ordinal, (phone, membership) in enumerate(
            zip(phones, existing, strict=True)
        ):
            positions[phone, group_id] = membership.position if keep else ordinal
    return positions


def status_reason(status: str) -> str:
    return "" if status == AgentStatus.AVAILABLE else IMPORT_STATUS_REASON


def import_status(agent: Agent, row: AgentRow, *, now: dt.datetime) -> bool:
    """Give `agent` the status of its row; return whether it changed.

    A status set by the roster is a manual change: the missed calls that may have
    paused the agent start counting afresh. The same status changes nothing.
    """
    if agent.status == row.status:
        return False
    outcome = set_agent_status(
        agents=Agent.objects.filter(pk=agent.pk),
        status=row.status,
        reason=status_reason(row.status),
        via=StatusVia.IMPORT,
        now=now,
    )
    if outcome.changed:
        agent.refresh_from_db(
            fields=["status", "status_reason", "status_until", "missed_in_row"]
        )
    return bool(outcome.changed)


IMPORT_CHUNK = 1000


def import_agents(
    *,
    parsed: Parsed,
    deactivate_missing: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> ImportSummary:
    """Create or update the agents of a parsed agents file, all or nothing.

    Memberships the file does not list for an agent are removed; with
    `deactivate_missing`, agents absent from the file are made inactive.
    Raise RosterFileError listing every bad row; nothing is written then.
    The rows are applied `IMPORT_CHUNK` at a time (the chunk's agents read,
    its new rows written in batches), so memory does not grow with the roster.
    """
    now = now or timezone.now()
    summary = ImportSummary(dry_run=dry_run)
    with transaction.atomic():
        end_due_breaks(now=now)
        groups = _groups_of_rows(parsed)
        phones = [row.phone for row in parsed.rows]
        stored = stored_memberships(phones)
        positions = membership_positions(parsed.rows, groups, stored)
        ensure_skills(name for row in parsed.rows for name, _ in row.skills or ())
        for start in range(0, len(parsed.rows), IMPORT_CHUNK):
            import_agent_rows(
                parsed.rows[start : start + IMPORT_CHUNK],
                groups=groups,
                positions=positions,
                stored=stored,
                summary=summary,
                now=now,
            )
        if deactivate_missing:
            missing = Agent.objects.filter(active=True).exclude(phone__in=phones)
            for name, phone in missing.values_list("name", "phone"):
                summary.details.append(f"deactivated agent {name} {phone}")
            summary.deactivated = missing.update(active=False)
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run:
        refresh_planner_statistics()
    return summary


def _groups_of_rows(parsed: Parsed) -> dict[str, AgentGroup]:
    """Return the groups the rows name, by slug; raise for any row error."""
    slugs = {slug for row in parsed.rows for slug, _ in row.groups}
    groups = {group.slug: group for group in AgentGroup.objects.filter(slug__in=slugs)}
    errors = list(parsed.errors)
    for row in parsed.rows:
        for slug, _ in row.groups:
            if slug not in groups:
                errors.append(RowError(row.line, f"unknown group {slug!r}"))
    if errors:
        raise RosterFileError(errors)
    return groups


def import_agent_rows(
    rows: list[AgentRow],
    *,
    groups: dict[str, AgentGroup],
    positions: dict[tuple[str, int], int],
    stored: dict[tuple[str, int], StoredMembership],
    summary: ImportSummary,
    now: dt.datetime,
) -> None:
    """Apply one chunk of rows; new agents, hours and memberships in batches."""
    agents = {
        agent.phone.as_e164: agent
        for agent in Agent.objects.filter(
            phone__in=[row.phone for row in rows]
        ).prefetch_related("hours")
    }
    new_rows = [row for row in rows if row.phone not in agents]
    created = Agent.objects.bulk_create(
        Agent(
            name=row.name,
            phone=row.phone,
            status=row.status,
            status_reason=status_reason(row.status),
            status_changed_at=now,
            active=row.active,
            timezone=row.timezone,
        )
        for row in new_rows
    )
    agents.update(zip((row.phone for row in new_rows), created, strict=True))
    new_phones = {row.phone for row in new_rows}
    stored_skills = agent_skills(agent.pk for agent in agents.values())
    hours: list[AgentHours] = []
    memberships: list[Membership] = []
    for row in rows:
        agent = agents[row.phone]
        outcome = "created" if row.phone in new_phones else "unchanged"
        if outcome == "unchanged" and update_agent(agent, row, now=now):
            outcome = "updated"
        if outcome == "created" or stored_hours(agent) != list(row.hours):
            if outcome != "created":
                agent.hours.all().delete()
                outcome = "updated"
            hours.extend(AgentHours(agent=agent, **h._asdict()) for h in row.hours)
        if sync_memberships(
            agent,
            row,
            groups,
            positions,
            stored,
            memberships,
            created=outcome == "created",
        ):
            outcome = "updated" if outcome == "unchanged" else outcome
        if row.skills is not None and sync_skills(
            agent, row.skills, stored_skills.get(agent.pk, ())
        ):
            outcome = "updated" if outcome == "unchanged" else outcome
        summary.count(outcome, row.line, f"agent {row.name} {row.phone}")
    AgentHours.objects.bulk_create(hours, batch_size=IMPORT_CHUNK)
    Membership.objects.bulk_create(memberships, batch_size=IMPORT_CHUNK)


def update_agent(agent: Agent, row: AgentRow, *, now: dt.datetime) -> bool:
    """Give a stored agent its row's name, activity, zone and status; say if any changed."""
    values = {"name": row.name, "active": row.active, "timezone": row.timezone}
    fields = [name for name, value in values.items() if getattr(agent, name) != value]
    changed = False
    # The status changes while the agent is active: after a reactivation,
    # before a deactivation.
    if not row.active and import_status(agent, row, now=now):
        changed = True
    for name in fields:
        setattr(agent, name, values[name])
    if fields:
        agent.save(update_fields=fields)
        changed = True
    if row.active and import_status(agent, row, now=now):
        changed = True
    return changed


def sync_memberships(
    agent: Agent,
    row: AgentRow,
    groups: dict[str, AgentGroup],
    positions: dict[tuple[str, int], int],
    stored: dict[tuple[str, int], StoredMembership],
    new: list[Membership],
    *,
    created: bool = False,
) -> bool:
    """Make `agent`'s memberships those `row` lists; return whether any changed.

    Memberships to create are appended to `new`, for the caller to write in one
    batch.
    """
    wanted = {
        groups[slug].pk: (priority, positions[row.phone, groups[slug].pk])
        for slug, priority in row.groups
    }
    changed = False
    if not created:
        removed, _ = (
            Membership.objects.filter(agent=agent).exclude(group_id__in=wanted).delete()
        )
        changed = removed > 0
    for group_id, (priority, position) in wanted.items():
        membership = stored.get((row.phone, group_id))
        if membership is None:
            membership = Membership(
                agent=agent, group_id=group_id, priority=priority, position=position
            )
            membership.start_like_the_agent()
            new.append(membership)
            changed = True
        elif (membership.priority, membership.position) != (priority, position):
            Membership.objects.filter(pk=membership.pk).update(
                priority=priority, position=position
            )
            changed = True
    return changed


def ensure_skills(names) -> None:
    """Create the skills `names` that do not exist yet (skills exist once used)."""
    Skill.objects.bulk_create(
        [Skill(name=name) for name in sorted(set(names))], ignore_conflicts=True
    )


def agent_skills(agent_ids) -> dict[int, Levels]:
    """Return each agent's skills as (name, level), sorted by name."""
    skills: dict[int, list] = defaultdict(list)
    rows = AgentSkill.objects.filter(agent_id__in=list(agent_ids)).order_by("skill_id")
    for agent_id, name, level in rows.values_list("agent_id", "skill_id", "level"):
        skills[agent_id].append((name, level))
    return {agent_id: tuple(levels) for agent_id, levels in skills.items()}


def sync_skills(agent: Agent, wanted: Levels, stored: Levels) -> bool:
    """Make `agent`'s skills `wanted`; return whether any changed."""
    if tuple(wanted) == tuple(stored):
        return False
    AgentSkill.objects.filter(agent=agent).delete()
    AgentSkill.objects.bulk_create(
        AgentSkill(agent=agent, skill_id=name, level=level) for name, level in wanted
    )
    return True


def export_order(
    keys: dict[int, tuple[str, str]], memberships: list[tuple[int, int, int]]
) -> list[int]:
    """Order the agents so that every group lists its members in position order.

    `keys` maps each agent's pk to (name, phone); `memberships` holds (agent pk,
    group id, position). Importing the rows in this order gives each membership
    back its position; where the groups disagree, the first agent by name breaks
    the tie. Plain values in, pks out: the agents themselves are read later, a
    chunk at a time.
    """
    key = {pk: (name, phone, pk) for pk, (name, phone) in keys.items()}
    chains: dict[int, list] = defaultdict(list)
    for agent_id, group_id, position in memberships:
        chains[group_id].append(((position,) + key[agent_id], agent_id))
    successors = defaultdict(set)
    waiting = dict.fromkeys(key, 0)
    for chain in chains.values():
        chain.sort()
        for (_, before), (_, after) in pairwise(chain):
            if after not in successors[before]:
                successors[before].add(after)
                waiting[after] += 1
    ready = [key[pk] for pk, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered = []
    while waiting:
        if not ready:
            # Contradicting groups: release the first remaining agent by name.
            heapq.heappush(ready, min(key[pk] for pk in waiting))
        pk = heapq.heappop(ready)[2]
        if pk not in waiting:
            continue
        del waiting[pk]
        ordered.append(pk)
        for after in successors[pk]:
            if after in waiting:
                waiting[after] -= 1
                if waiting[after] == 0:
                    heapq.heappush(ready, key[after])
    return ordered


def write_rows(out: TextIO, columns: tuple[str, ...], rows: Iterable[dict]) -> int:
    """Write a roster file's header and `rows` to `out` as they come; return the rows."""
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({name: defuse(value) for name, value in row.items()})
        count += 1
    return count


def write_csv(columns: tuple[str, ...], rows: Iterable[dict]) -> str:
    out = io.StringIO()
    write_rows(out, columns, rows)
    return out.getvalue()


def export_groups() -> str:
    """Return every group as a groups file (DESIGN section 3)."""
    groups = AgentGroup.objects.select_related(
        "overflow", "vip_group"
    ).prefetch_related("hours")
    return write_csv(
        (*GROUP_COLUMNS, *GROUP_CONNECT_COLUMNS, GROUP_VIP_COLUMN),
        [
            {
                "slug": group.slug,
                "name": group.name,
                "strategy": group.strategy,
                "batch_size": group.batch_size,
                "ring_seconds": group.ring_seconds,
                "max_attempts": group.max_attempts,
                "wrapup_seconds": group.wrapup_seconds,
                "hold_seconds": group.hold_seconds,
                "sticky_days": group.sticky_days,
                "missed_to_pause": group.missed_to_pause,
                "overflow": group.overflow.slug if group.overflow else "",
                "fallback_numbers": group.fallback_numbers,
                "exophones": group.exophones,
                "digits": group.digits,
                "timezone": group.timezone,
                "hours": format_hours(stored_hours(group)),
                **connect_cells(group),
                GROUP_VIP_COLUMN: group.vip_group.slug if group.vip_group else "",
            }
            for group in groups.order_by("slug")
        ],
    )


def connect_cells(group: AgentGroup) -> dict[str, str]:
    """Return the Programmable Connect settings of `group` as a groups file writes them."""
    cells = {}
    for column in GROUP_CONNECT_COLUMNS:
        value = getattr(group, column)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        cells[column] = "" if value is None else str(value)
    return cells


def membership_cell(agent: Agent) -> str:
    memberships = sorted(
        agent.memberships.all(), key=lambda m: (m.priority, m.position, m.group.slug)
    )
    return ";".join(
        m.group.slug if m.priority == 1 else f"{m.group.slug}:{m.priority}"
        for m in memberships
    )


def effective_status(agent: Agent, *, now: dt.datetime) -> str:
    """Return the agent's status at `now`: a break whose end has passed is over."""
    if (
        agent.status == AgentStatus.BREAK
        and agent.status_until is not None
        and agent.status_until <= now
    ):
        return AgentStatus.AVAILABLE
    return agent.status


EXPORT_CHUNK = 2000


def export_agents(*, now: dt.datetime | None = None) -> str:
    """Return every agent as an agents file (DESIGN section 3)."""
    out = io.StringIO()
    write_agents(out, now=now)
    return out.getvalue()


def write_agents(out: TextIO, *, now: dt.datetime | None = None) -> int:
    """Write every agent to `out` as an agents file; return how many.

    Streamed: the order is worked out from plain values, then the agents are
    read and written `EXPORT_CHUNK` at a time, so memory does not grow with
    the roster.
    """
    now = now or timezone.now()
    keys = {
        pk: (name, phone)
        for pk, name, phone in Agent.objects.values_list("pk", "name", "phone")
        .order_by()
        .iterator(chunk_size=EXPORT_CHUNK)
    }
    memberships = list(
        Membership.objects.values_list("agent_id", "group_id", "position")
        .order_by()
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    order = export_order(keys, memberships)
    del keys, memberships
    return write_rows(
        out, (*AGENT_COLUMNS, AGENT_SKILLS_COLUMN), _agent_rows(order, now=now)
    )


def _agent_rows(order: list[int], *, now: dt.datetime):
    for start in range(0, len(order), EXPORT_CHUNK):
        chunk = order[start : start + EXPORT_CHUNK]
        agents = Agent.objects.prefetch_related(
            "hours", "memberships__group", "skills"
        ).in_bulk(chunk)
        for pk in chunk:
            agent = agents[pk]
            yield {
                "name": agent.name,
                "phone": agent.phone.as_e164,
                "groups": membership_cell(agent),
                "status": effective_status(agent, now=now),
                "active": "yes" if agent.active else "no",
                "timezone": agent.timezone,
                "hours": format_hours(stored_hours(agent)),
                AGENT_SKILLS_COLUMN: format_levels(
                    (skill.skill_id, skill.level) for skill in agent.skills.all()
                ),
            }
