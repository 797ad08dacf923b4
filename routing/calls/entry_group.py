"""Routes for the unpinned URL: (ExoPhone, IVR digits) -> agent group."""

from agents.models import AgentGroup

ANY_EXOPHONE = "*"


def route_rank(
    *, exophones: list[str], digits: str, call_exophone: str, call_digits: str
):
    """Return how specifically a group's route matches a call (0 best), or None.

    ExoPhone and digits, then ExoPhone, then `*` and digits, then `*`.
    """
    if digits and digits != call_digits:
        return None
    if ANY_EXOPHONE in exophones:
        return 3 if not digits else 2
    if call_exophone and call_exophone in exophones:
        return 1 if not digits else 0
    return None


def resolve_group(*, exophone: str, digits: str) -> AgentGroup | None:
    """Return the group whose route matches the call most specifically."""
    ranked = []
    for group in AgentGroup.objects.exclude(exophones="").select_related("overflow"):
        rank = route_rank(
            exophones=group.exophone_list,
            digits=group.digits,
            call_exophone=exophone,
            call_digits=digits,
        )
        if rank is not None:
            ranked.append((rank, group.slug, group))
    return min(ranked, key=lambda item: item[:2])[2] if ranked else None
