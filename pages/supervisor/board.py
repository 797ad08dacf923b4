"""The live board: each member of a group as it stands now."""

import datetime as dt

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from agents import rules
from agents.models import AgentGroup, Membership, StatusChange
from routing.models import Attempt, Call, CallResult


def board_members(*, group: AgentGroup, now: dt.datetime) -> QuerySet:
    """Return the group's memberships with what the board shows, in tier order.

    Each row carries `on_duty`, `engaged`, the offer that engages the agent
    (`engaged_since`, `engaged_outcome`, `engaged_call_id`) and the agent's last
    answered call (`last_call_id`, `last_call_sid`), and where the status came
    from (`status_via`, `status_by`: the last StatusChange), in one query.
    """
    last_change = StatusChange.objects.filter(agent=OuterRef("agent")).order_by(
        "-changed_at", "-pk"
    )
    engaging_offer = Attempt.objects.filter(
        agent=OuterRef("agent"), call__sid=OuterRef("agent__engaged_call_sid")
    ).order_by("-offered_at")
    last_answered = Call.objects.filter(
        answered_by=OuterRef("agent"), result=CallResult.ANSWERED
    ).order_by("-ended_at")
    return (
        Membership.objects.filter(group=group)
        .select_related("agent")
        .annotate(
            on_duty=rules.orm_condition(
                rules.ON_DUTY, moment=now, aliases=rules.ORM_MEMBER
            ),
            engaged=ExpressionWrapper(
                ~Q(
                    rules.orm_condition(
                        [rules.NOT_ENGAGED],
                        moment=now,
                        aliases=rules.ORM_MEMBER,
                        zones=(),
                    )
                ),
                output_field=BooleanField(),
            ),
            engaged_since=Subquery(engaging_offer.values("offered_at")[:1]),
            engaged_outcome=Subquery(engaging_offer.values("outcome")[:1]),
            engaged_call_id=Subquery(engaging_offer.values("call_id")[:1]),
            last_call_id=Subquery(last_answered.values("pk")[:1]),
            last_call_sid=Subquery(last_answered.values("sid")[:1]),
            status_via=Subquery(last_change.values("via")[:1]),
            status_by=Subquery(last_change.values("user__username")[:1]),
        )
        .order_by("priority", "position", "agent__name")
    )
