"""The shape of the benchmark roster, shared by the seeder and the load scripts."""

GROUP_SIZES = {"bench-10": 10, "bench-1000": 1000}
FOLLOW_UP_GROUP = "bench-10"
# Saturation runs get CallSids (and pending calls) for this many requests a second.
MAX_RATE = 1500


def phone(group_index: int, agent_index: int) -> str:
    """Return the E.164 phone of agent `agent_index` of the `group_index`-th group."""
    return f"+9198{group_index}{agent_index:07d}"


# Issue 19: every agent has SKILLS skills; each group has a route with two needs
# (`<group>-needs`), and the needs phases call from a known caller.
SKILLS = 10
ROUTE_NEEDS = "skill-0:2;skill-1:2"
KNOWN_CALLER = "+919901320692"
