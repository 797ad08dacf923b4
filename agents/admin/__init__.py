"""The supervisors' admin: groups and agents, each supervisor confined to their
groups; skills, routes and known callers (DESIGN section 10)."""

from agents.admin import agents, groups, skills  # noqa: F401  (registers the model admins)
