"""Roster factories: deterministic sequences, the values under test set explicitly."""

import itertools

import pytest

from agents.models import Agent, AgentGroup, Membership


@pytest.fixture
def make_group():
    sequence = itertools.count(1)

    def make(**fields) -> AgentGroup:
        n = next(sequence)
        fields.setdefault("slug", f"group-{n}")
        fields.setdefault("name", f"Group {n}")
        return AgentGroup.objects.create(**fields)

    return make


@pytest.fixture
def make_agent():
    sequence = itertools.count(1)

    def make(*, groups=(), **fields) -> Agent:
        n = next(sequence)
        fields.setdefault("name", f"Agent {n:03d}")
        fields.setdefault("phone", f"+9199{n:08d}")
        agent = Agent.objects.create(**fields)
        for position, group in enumerate(groups):
            Membership.objects.create(agent=agent, group=group, position=position)
        return agent

    return make
