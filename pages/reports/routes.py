"""A group's calls per route (DESIGN 10.4): calls, answered, answered by an agent
meeting the needs, answered after the needs relaxed, blocked; calls Exotel placed
counted apart."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from agents.models import AgentGroup
from pages.reports.figures import day_bounds
from routing.models import Attempt, Call, CallResult, Outcome

NO_ROUTE = "(no route)"


@dataclass
class RouteFigures:
    route: str
    needs: str = ""
    calls: int = 0
    answered: int = 0
    answered_meeting_needs: int = 0
    answered_after_relaxing: int = 0
    blocked: int = 0
    placed_by_exotel: int = 0


def route_report(
    *, group: AgentGroup, start: dt.date, end: dt.date
) -> list[RouteFigures]:
    """Return a row per route the group's calls took from `start` to `end`
    (the group's days), then the calls with no route."""
    _, since, until = day_bounds(group, start, end)
    calls = Call.objects.filter(
        group=group, first_seen_at__gte=since, first_seen_at__lt=until
    )
    rows: dict[str, RouteFigures] = {}
    counted = (
        calls.order_by()
        .values("route__slug", "route__needs")
        .annotate(
            calls=Count("pk"),
            answered=Count("pk", filter=Q(result=CallResult.ANSWERED)),
            blocked=Count("pk", filter=Q(result=CallResult.BLOCKED)),
            placed=Count(
                "pk", filter=~Q(direction="") & ~Q(direction__iexact="incoming")
            ),
        )
    )
    for row in counted:
        slug = row["route__slug"] or NO_ROUTE
        rows[slug] = RouteFigures(
            route=slug,
            needs=row["route__needs"] or "",
            calls=row["calls"],
            answered=row["answered"],
            blocked=row["blocked"],
            placed_by_exotel=row["placed"],
        )
    answers = (
        Attempt.objects.filter(
            call__in=calls.exclude(needs=""), outcome=Outcome.COMPLETED
        )
        .select_related("call", "call__route")
        .only(
            "met_needs",
            "offered_at",
            "call__first_seen_at",
            "call__relax_after",
            "call__needs",
            "call__route__slug",
        )
    )
    for answer in answers.iterator(chunk_size=2000):
        call = answer.call
        row = rows[call.route.slug if call.route else NO_ROUTE]
        if answer.met_needs:
            row.answered_meeting_needs += 1
        relaxes_at = call.relaxes_at
        if relaxes_at is not None and (
            answer.met_needs is False or answer.offered_at >= relaxes_at
        ):
            row.answered_after_relaxing += 1
    return sorted(rows.values(), key=lambda row: (row.route == NO_ROUTE, row.route))
