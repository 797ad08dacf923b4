"""The last-known on-duty numbers per group, kept on disk for database outages.

While the database answers, each process writes the list of every group it
routes a call for (at most once per `DIALWHOM_LAST_KNOWN_REFRESH_SECONDS`) as
`<slug>.txt` in the Exotel answer format, and the unpinned URL's routes as
`routes.json`, in `DIALWHOM_LAST_KNOWN_DIR`. The files decide nothing while the
database is up; when it is unreachable, the webhook answers a group's whole list
from them. `export_fallback` writes the same `<slug>.txt` files for a static
Fallback URL host.
"""

import datetime as dt
import json
import logging
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError

from agents.models import AgentGroup, Route
from agents.rules.queries import agent_zones
from agents.skills import stored_needs
from routing.calls.entry_group import route_rank
from routing.calls.planner import group_settings, overflow_chain
from routing.calls.selection import MemberQuery
from routing.decision import engine

logger = logging.getLogger(__name__)

ROUTES_FILE = "routes.json"
# When this process last wrote each group's file ("" for the routes).
_written_at: dict[str, float] = {}


def on_duty_numbers(
    group: AgentGroup, *, now: dt.datetime, needs: engine.CallNeeds = engine.NO_NEEDS
) -> list[str]:
    """Return everyone who could take `group`'s calls at `now`, best first.

    The planner's answer for a call that could take everyone: the available,
    on-duty members of the group and then of its overflow chain (open groups
    only, tier and position order, whether engaged or not; with a route's
    `needs`, those who meet them first, and only them when strict), then the
    chain's fallback numbers; each number once, at most `max_attempts` of them.
    """
    chain = overflow_chain(group)
    zones = agent_zones()
    pools = {}
    for member_group in chain:
        for key in needs.keys(member_group.pk):
            query = MemberQuery(
                member_group,
                moment=now,
                zones=zones,
                needs=needs.skills,
                part=key[1] if isinstance(key, tuple) else "",
                strict=needs.strict,
            )
            pools[key] = engine.Pool(tuple(query.on_duty()), complete=True)
    everyone = sum(len(pool.candidates) for pool in pools.values())
    everyone += sum(len(g.fallback_number_list) for g in chain)
    entry, *rest = [group_settings(member_group) for member_group in chain]
    plan = engine.plan(
        offers=[],
        settlement=engine.Settlement(),
        chain=[replace(entry, batch_size=max(everyone, 1)), *rest],
        pools=pools,
        now=now,
        needs=needs,
    )
    return plan.numbers


def write_answer_file(directory: Path, slug: str, numbers: list[str]) -> Path:
    """Write `numbers` as `<slug>.txt` in the Exotel answer format, atomically."""
    return _write_atomically(directory / f"{slug}.txt", ",".join(numbers))


def read_answer_file(directory: Path, slug: str) -> list[str] | None:
    """Return the numbers of `<slug>.txt`, or None when there is no such file."""
    try:
        body = (directory / f"{slug}.txt").read_text()
    except FileNotFoundError:
        return None
    return [number for number in body.split(",") if number]


def remember(
    *, group: AgentGroup | None, now: dt.datetime, route: Route | None = None
) -> None:
    """Refresh the last-known files of `group`, of `route` and of the routes, if due.

    Called after a request the database served and its answer committed: a file
    that cannot be written, or a database that fails meanwhile, is logged and
    never changes that answer.
    """
    directory = Path(settings.DIALWHOM_LAST_KNOWN_DIR)
    try:
        if _due(""):
            # The same reading of the routes as routing.calls.entry_group.resolve_group.
            routes = [
                {
                    "slug": routed.slug,
                    "exophones": routed.exophone_list,
                    "digits": routed.digits,
                }
                for routed in [
                    *AgentGroup.objects.exclude(exophones="").only(
                        "slug", "exophones", "digits"
                    ),
                    *Route.objects.exclude(exophones="").only(
                        "slug", "exophones", "digits"
                    ),
                ]
            ]
            _write_atomically(directory / ROUTES_FILE, json.dumps(routes))
        if group is not None and _due(group.slug):
            write_answer_file(directory, group.slug, on_duty_numbers(group, now=now))
        if route is not None and route.group_id is not None and _due(route.slug):
            needs = stored_needs(route.needs)
            write_answer_file(
                directory,
                route.slug,
                on_duty_numbers(
                    route.group,
                    now=now,
                    needs=engine.CallNeeds(
                        skills=needs, strict=bool(needs) and route.relax_after != 0
                    ),
                ),
            )
    except (OSError, DatabaseError) as error:
        logger.warning("cannot keep the last-known numbers in %s: %s", directory, error)


def recall(
    *, group_slug: str | None, exophone: str, digits: str
) -> tuple[str, list[str]]:
    """Return the group and its last-known numbers for a call, from the files alone.

    The pinned slug, or the group the unpinned routes gave when last known. The
    group is "" when no route is known; the list is empty when no file is.
    """
    directory = Path(settings.DIALWHOM_LAST_KNOWN_DIR)
    slug = group_slug or _route_from_file(directory, exophone=exophone, digits=digits)
    if not slug:
        return "", []
    try:
        return slug, read_answer_file(directory, slug) or []
    except OSError as error:
        logger.error("cannot read the last-known numbers of %s: %s", slug, error)
        return slug, []


def _route_from_file(directory: Path, *, exophone: str, digits: str) -> str:
    try:
        routes = json.loads((directory / ROUTES_FILE).read_text())
    except (OSError, ValueError):
        return ""
    ranked = []
    for route in routes:
        rank = route_rank(
            exophones=route["exophones"],
            digits=route["digits"],
            call_exophone=exophone,
            call_digits=digits,
        )
        if rank is not None:
            ranked.append((rank, route["slug"]))
    return min(ranked)[1] if ranked else ""


def _due(key: str) -> bool:
    moment = time.monotonic()
    last = _written_at.get(key)
    if (
        last is not None
        and moment - last < settings.DIALWHOM_LAST_KNOWN_REFRESH_SECONDS
    ):
        return False
    _written_at[key] = moment
    return True


def _write_atomically(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(
        f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial"
    )
    partial.write_text(text)
    os.replace(partial, path)
    return path
