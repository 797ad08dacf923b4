"""The call log: calls (one per CallSid), the numbers offered, every webhook request."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from agents.models import Agent, AgentGroup
from routing.exotel import statuses


class CallResult(models.TextChoices):
    IN_PROGRESS = statuses.IN_PROGRESS, "In progress"
    ANSWERED = statuses.ANSWERED, "Answered"
    NOT_ANSWERED = statuses.NOT_ANSWERED, "Not answered"
    # The caller hung up before anyone answered (CallType=client-hangup).
    ABANDONED = statuses.ABANDONED, "Abandoned"
    # A known caller marked blocked: answered empty, nobody claimed.
    BLOCKED = statuses.BLOCKED, "Blocked"


class DerivedResult(models.TextChoices):
    """A call's result as reports show it (DESIGN 8.1), derived at a moment."""

    ANSWERED = CallResult.ANSWERED.value, "Answered"
    NOT_ANSWERED = CallResult.NOT_ANSWERED.value, "Not answered"
    ABANDONED = CallResult.ABANDONED.value, "Abandoned"
    IN_PROGRESS = CallResult.IN_PROGRESS.value, "In progress"
    NO_OUTCOME = "no-outcome", "No outcome reported"
    # Counted apart (DESIGN 10.3): the reports' per-route table.
    BLOCKED = CallResult.BLOCKED.value, "Blocked"


class CallQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CallQuerySet":
        """Return the calls `user` may see: all for superusers, else their groups'."""
        if user.is_superuser:
            return self
        return self.filter(group__supervisors=user)

    def with_derived_result(self, now: dt.datetime) -> "CallQuerySet":
        """Annotate `derived_result`, a `DerivedResult`, as the call stands at `now`.

        An ended result (answered, not answered, abandoned) stands. A call with none
        is in progress while one of its offers is pending inside its hold time; not
        answered when every offer it got has a reported outcome (the offers ran out
        and our last answer was empty; no offer at all counts too); otherwise no
        outcome was reported (an offer lapsed, or a fallback number, which holds no
        one, was never reported on).
        """
        attempts = Attempt.objects.filter(call=OuterRef("pk"))
        holding = attempts.filter(outcome=Outcome.PENDING, hold_until__gt=now)
        unreported = attempts.filter(outcome__in=[Outcome.PENDING, Outcome.EXPIRED])
        return self.annotate(
            derived_result=Case(
                When(
                    ~Q(result=CallResult.IN_PROGRESS),
                    then="result",
                ),
                When(Exists(holding), then=Value(DerivedResult.IN_PROGRESS.value)),
                When(
                    ~Exists(unreported),
                    then=Value(DerivedResult.NOT_ANSWERED.value),
                ),
                default=Value(DerivedResult.NO_OUTCOME.value),
                output_field=models.CharField(),
            )
        )


class Call(models.Model):
    sid = models.CharField("CallSid", max_length=64, unique=True)
    caller = models.CharField(max_length=20, blank=True, help_text="E.164.")
    exophone = models.CharField(max_length=20, blank=True, help_text="E.164.")
    digits = models.CharField(max_length=50, blank=True)
    group = models.ForeignKey(
        AgentGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        help_text="The group the call entered by (overflow groups are on attempts).",
    )
    route = models.ForeignKey(
        "agents.Route",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        help_text="The route the call took (DESIGN 10.2), kept for the call.",
    )
    needs = models.CharField(
        max_length=500,
        blank=True,
        default="",
        db_default="",  # rows written in SQL elsewhere need no needs
        help_text="What the call needed: the route's and the caller's own needs.",
    )
    relax_after = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Seconds after the first request when the needs became a "
        "preference (empty: never; 0: from the start).",
    )
    direction = models.CharField(
        max_length=30,
        blank=True,
        default="",
        db_default="",
        help_text="Exotel's Direction: incoming, or a call Exotel placed.",
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    result = models.CharField(
        max_length=20, choices=CallResult, default=CallResult.IN_PROGRESS
    )
    answered_by = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answered_calls",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Known only from Programmable Connect's events (DESIGN section 9).
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When an agent picked up (from the events)."
    )
    answer_seconds = models.FloatField(
        null=True,
        blank=True,
        help_text="Seconds from the first offer to the answer (speed of answer).",
    )

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-first_seen_at"]
        indexes = [
            models.Index(fields=["first_seen_at"], name="call_first_seen_idx"),
            models.Index(fields=["caller", "first_seen_at"], name="call_caller_idx"),
            models.Index(fields=["group", "first_seen_at"], name="call_group_idx"),
        ]

    def __str__(self):
        return self.sid

    @property
    def relaxes_at(self) -> dt.datetime | None:
        """When the call's needs became a preference (None: never, or no needs)."""
        if not self.needs or self.relax_after is None:
            return None
        return self.first_seen_at + dt.timedelta(seconds=self.relax_after)


class Outcome(models.TextChoices):
    PENDING = statuses.PENDING, "Pending"
    COMPLETED = statuses.COMPLETED, "Answered"
    BUSY = statuses.BUSY, "Busy"
    NO_ANSWER = statuses.NO_ANSWER, "No answer"
    FAILED = statuses.FAILED, "Failed"
    CANCELED = statuses.CANCELED, "Canceled"
    EXPIRED = statuses.EXPIRED, "Expired (no news)"


class AttemptQuerySet(models.QuerySet):
    def pending(self) -> "AttemptQuerySet":
        return self.filter(outcome=Outcome.PENDING)

    def answered(self) -> "AttemptQuerySet":
        return self.filter(outcome=Outcome.COMPLETED)


class Attempt(models.Model):
    """One number offered for one call, and what became of it."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="attempts")
    # The log outlives the agent: keep the number dialled beside a nullable link.
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    group = models.ForeignKey(
        AgentGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attempts",
        help_text="The group that gave this number (differs from the call's on overflow).",
    )
    number = models.CharField(max_length=20, help_text="E.164, as answered to Exotel.")
    position = models.PositiveSmallIntegerField(help_text="1 = first number offered.")
    reason = models.CharField(
        max_length=200, blank=True, help_text="Why it was chosen."
    )
    offered_at = models.DateTimeField(default=timezone.now)
    hold_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the offer lapses if Exotel never reports its outcome "
        "(empty: it holds no one, as for fallback numbers).",
    )
    outcome = models.CharField(max_length=20, choices=Outcome, default=Outcome.PENDING)
    outcome_at = models.DateTimeField(null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Known only from Programmable Connect's events (DESIGN section 9).
    ringing_at = models.DateTimeField(
        null=True, blank=True, help_text="When the agent's phone started ringing."
    )
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the agent picked up."
    )
    met_needs = models.BooleanField(
        null=True,
        blank=True,
        help_text="Whether the agent met the call's needs (empty: no needs).",
    )

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["call", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "number"], name="attempt_number_once_per_call"
            ),
            models.UniqueConstraint(
                fields=["call", "position"], name="attempt_position_once_per_call"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1), name="attempt_position_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["agent", "outcome", "outcome_at"],
                name="attempt_agent_outcome_idx",
            ),
            models.Index(
                fields=["group", "offered_at"], name="attempt_group_offered_idx"
            ),
            models.Index(fields=["offered_at"], name="attempt_offered_idx"),
        ]

    def __str__(self):
        return f"{self.call.sid} #{self.position} {self.number}"


class WebhookRequest(models.Model):
    """Every Exotel request we accepted or rejected (a wrong token writes nothing)."""

    class Endpoint(models.TextChoices):
        DIAL_WHOM = "dial-whom", "Dial Whom"
        PASSTHRU = "passthru", "Passthru"
        AGENT_STATUS = "agent-status", "Agent status (keypad)"
        CONNECT = "connect", "Programmable Connect"
        CONNECT_EVENTS = "connect-events", "Connect events"

    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.CASCADE, related_name="requests"
    )
    call_sid = models.CharField(max_length=64, blank=True)
    endpoint = models.CharField(max_length=20, choices=Endpoint)
    group_slug = models.CharField(max_length=50, blank=True)
    params = models.JSONField(default=dict)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    notes = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why we answered as we did: the routing reasons, or what was wrong.",
    )
    degraded = models.BooleanField(
        default=False,
        help_text="Answered from the last-known list while the database was down.",
    )
    duration_ms = models.FloatField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["received_at"], name="request_received_idx"),
            models.Index(fields=["call_sid"], name="request_call_sid_idx"),
        ]

    def __str__(self):
        return f"{self.endpoint} {self.call_sid or '-'} -> {self.status_code}"


class CallBack(models.Model):
    """A supervisor's mark: this caller of this group was called back."""

    group = models.ForeignKey(
        AgentGroup, on_delete=models.CASCADE, related_name="call_backs"
    )
    caller = models.CharField(max_length=20, help_text="E.164.")
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="call_backs",
    )
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-marked_at"]
        indexes = [
            models.Index(
                fields=["group", "caller", "marked_at"], name="call_back_caller_idx"
            )
        ]

    def __str__(self):
        return f"{self.caller} called back ({self.group.slug})"
