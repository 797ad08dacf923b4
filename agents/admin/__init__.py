"""The supervisors' admin: groups and agents, each supervisor confined to their groups."""

from agents.admin import agents, groups  # noqa: F401  (registers the model admins)
