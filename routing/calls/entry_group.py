"""Routes for the unpinned URL: (ExoPhone, IVR digits) -> a route or a group.

Routes (DESIGN 10.2) and the groups' own routes match alike, most specific first;
a `route=<slug>` in the call's CustomField (DESIGN 10.5) names the route outright.
"""

import logging

from agents.models import AgentGroup, Route

ANY_EXOPHONE = "*"

logger = logging.getLogger(__name__)


def route_rank(
    *, exophones: list[str], digits: str, call_exophone: str, call_digits: str
):
    """Return how specifically a route matches a call (0 best), or None.

    ExoPhone and digits, then ExoPhone, then `*` and digits, then `*`.
    """
    if digits and digits != call_digits:
        return None
    if ANY_EXOPHONE in exophones:
        return 3 if not digits else 2
    if call_exophone and call_exophone in exophones:
        return 1 if not digits else 0
    return None


def resolve_entry(
    *, exophone: str, digits: str, route_slug: str = ""
) -> tuple[Route | None, AgentGroup | None]:
    """Return the route (or None) and the group a new unpinned call enters by."""
    routes = list(
        Route.objects.select_related("group__overflow").exclude(exophones="")
        if not route_slug
        else Route.objects.select_related("group__overflow").filter(slug=route_slug)
        | Route.objects.select_related("group__overflow").exclude(exophones="")
    )
    named = next((route for route in routes if route.slug == route_slug), None)
    if route_slug and named is None:
        logger.info("CustomField names unknown route %r: ignored", route_slug)
    if named is not None:
        return named, named.group
    ranked = []
    for route in routes:
        rank = route_rank(
            exophones=route.exophone_list,
            digits=route.digits,
            call_exophone=exophone,
            call_digits=digits,
        )
        if rank is not None:
            ranked.append((rank, route.slug, route, route.group))
    for group in AgentGroup.objects.exclude(exophones="").select_related("overflow"):
        rank = route_rank(
            exophones=group.exophone_list,
            digits=group.digits,
            call_exophone=exophone,
            call_digits=digits,
        )
        if rank is not None:
            ranked.append((rank, group.slug, None, group))
    if not ranked:
        return None, None
    _, _, route, group = min(ranked, key=lambda item: item[:2])
    return route, group


def resolve_group(*, exophone: str, digits: str) -> AgentGroup | None:
    """Return the group whose route matches the call most specifically."""
    return resolve_entry(exophone=exophone, digits=digits)[1]
