"""The roster: agent groups, agents, memberships, weekly hours, time off, holidays."""

import contextlib
import datetime as dt
import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from agents.phones import normalize_phone, normalize_phone_list

DEFAULT_TIMEZONE = "Asia/Kolkata"
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def validate_timezone(value: str) -> None:
    """Reject names that are not IANA time zones."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"unknown time zone {value!r}") from error


def validate_exophones(value: str) -> None:
    """Accept `*` or `;`-separated numbers."""
    if value.strip() != "*":
        normalize_phone_list(value)


def _e164_list(text: str) -> list[str]:
    """Return the `;`-separated numbers in E.164 (the field may predate clean())."""
    numbers = []
    for number in text.split(";"):
        if number.strip():
            with contextlib.suppress(ValidationError):
                numbers.append(normalize_phone(number, strict=False))
    return numbers


class Strategy(models.TextChoices):
    SEQUENTIAL = "sequential", "Sequential (position order)"
    ROUND_ROBIN = "round-robin", "Round robin"
    LONGEST_IDLE = "longest-idle", "Longest idle"
    FEWEST_CALLS = "fewest-calls", "Fewest calls today"
    RANDOM = "random", "Random"


class RecordingChannels(models.TextChoices):
    SINGLE = "single", "Single (both parties on one channel)"
    DUAL = "dual", "Dual (caller and agent on separate channels)"


class MusicOnHold(models.TextChoices):
    OPERATOR_TONE = "operator_tone", "Operator tone"
    DEFAULT_TONE = "default_tone", "Default tone"


class PlaybackTo(models.TextChoices):
    CALLEE = "callee", "The agent"
    CALLER = "caller", "The caller"
    BOTH = "both", "Both"


# The group settings that only Programmable Connect's JSON answer uses.
CONNECT_SETTINGS = (
    "parallel_ringing",
    "fetch_after_attempt",
    "caller_id",
    "record",
    "recording_channels",
    "max_conversation_seconds",
    "music_on_hold",
    "connect_message",
    "connect_message_to",
    "service_level_seconds",
)


class AgentGroupQuerySet(models.QuerySet):
    def visible_to(self, user) -> "AgentGroupQuerySet":
        """Return the groups `user` may see: all for superusers, else their own."""
        if user.is_superuser:
            return self
        return self.filter(supervisors=user)


class AgentGroup(models.Model):
    slug = models.SlugField(unique=True, help_text="Used in URLs and roster files.")
    name = models.CharField(max_length=100)
    strategy = models.CharField(
        max_length=20, choices=Strategy, default=Strategy.SEQUENTIAL
    )
    batch_size = models.PositiveSmallIntegerField(
        default=1,
        help_text="Numbers per answer (1 = decide afresh after every attempt).",
    )
    ring_seconds = models.PositiveIntegerField(
        default=30, help_text="How long one attempt may ring."
    )
    max_attempts = models.PositiveIntegerField(
        default=0, help_text="Numbers offered per call at most (0 = no cap)."
    )
    wrapup_seconds = models.PositiveIntegerField(
        default=30, help_text="Rest after an answered call."
    )
    hold_seconds = models.PositiveIntegerField(
        default=300,
        help_text="How long an offered agent stays engaged when no outcome is reported.",
    )
    sticky_days = models.PositiveIntegerField(
        default=0,
        help_text="Send a caller to the agent who last answered them within this "
        "many days (0 = off).",
    )
    missed_to_pause = models.PositiveIntegerField(
        default=0,
        help_text="Consecutive no-answers before an agent is put on break (0 = never).",
    )
    overflow = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="overflow_sources",
        help_text="Where calls go when nobody in this group is left.",
    )
    vip_group = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vip_sources",
        help_text="Known VIP callers ring this group's agents first (its own "
        "overflow and fallback numbers are not used).",
    )
    fallback_numbers = models.CharField(
        max_length=500,
        blank=True,
        help_text="Numbers to dial when no agent is left, separated by ';'.",
    )
    exophones = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_exophones],
        help_text="ExoPhones whose calls this group takes on the unpinned URL, "
        "separated by ';', or '*' for any ExoPhone.",
    )
    digits = models.CharField(
        max_length=20,
        blank=True,
        help_text="IVR input that selects this group on those ExoPhones "
        "(empty = any input).",
    )
    timezone = models.CharField(
        max_length=64, default=DEFAULT_TIMEZONE, validators=[validate_timezone]
    )
    # Programmable Connect (DESIGN section 9): what the JSON answer says beside the
    # numbers. Empty values are left out of the answer, so that an account that
    # rejects a field can turn it off.
    parallel_ringing = models.BooleanField(
        default=False,
        help_text="Programmable Connect: ring the numbers of one answer at once; "
        "the first to pick up gets the call.",
    )
    fetch_after_attempt = models.BooleanField(
        default=True,
        help_text="Programmable Connect: Exotel asks again after an unanswered "
        "attempt (or round).",
    )
    caller_id = models.CharField(
        "caller ID",
        max_length=20,
        blank=True,
        help_text="Programmable Connect: the ExoPhone agents see as the caller "
        "(empty: left to the applet).",
    )
    record = models.BooleanField(
        null=True,
        blank=True,
        help_text="Programmable Connect: record the conversation (empty: left to "
        "the applet).",
    )
    recording_channels = models.CharField(
        max_length=10,
        choices=RecordingChannels,
        blank=True,
        help_text="Programmable Connect (empty: left to the applet).",
    )
    max_conversation_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Programmable Connect: longest conversation allowed (empty: left "
        "to the applet).",
    )
    music_on_hold = models.CharField(
        max_length=20,
        choices=MusicOnHold,
        blank=True,
        help_text="Programmable Connect: what the caller hears while agents ring "
        "(empty: left to the applet).",
    )
    connect_message = models.CharField(
        max_length=500,
        blank=True,
        help_text="Programmable Connect: text spoken when the call connects (empty: "
        "none).",
    )
    connect_message_to = models.CharField(
        max_length=10,
        choices=PlaybackTo,
        default=PlaybackTo.BOTH,
        help_text="Who hears the message played on connect.",
    )
    service_level_seconds = models.PositiveIntegerField(
        default=20,
        validators=[MinValueValidator(1)],
        help_text="Reports: a call answered within this many seconds of its first "
        "offer meets the service level.",
    )
    # Round robin: per tier, the member offered last ({"1": [position, name]}).
    rotation = models.JSONField(default=dict, blank=True, editable=False)
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="supervised_groups",
        help_text="Staff users who manage this group and its agents.",
    )

    objects = AgentGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "group"
        constraints = [
            models.CheckConstraint(
                condition=Q(batch_size__gte=1), name="group_batch_size_positive"
            ),
            models.CheckConstraint(
                condition=Q(ring_seconds__gte=1), name="group_ring_seconds_positive"
            ),
            models.CheckConstraint(
                condition=~Q(overflow=F("pk")), name="group_not_overflow_to_itself"
            ),
            models.CheckConstraint(
                condition=Q(max_conversation_seconds__isnull=True)
                | Q(max_conversation_seconds__gte=1),
                name="group_max_conversation_positive",
            ),
            models.CheckConstraint(
                condition=Q(service_level_seconds__gte=1),
                name="group_service_level_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.overflow_id is not None and self.overflow_id == self.pk:
            errors["overflow"] = "A group cannot overflow to itself."
        if self.vip_group_id is not None and self.vip_group_id == self.pk:
            errors["vip_group"] = "A group cannot be its own VIP group."
        if Route.objects.filter(slug=self.slug).exists():
            errors["slug"] = (
                f"slug {self.slug!r} is already a route's; routes and groups share "
                "one namespace"
            )
        try:
            self.fallback_numbers = ";".join(
                normalize_phone_list(self.fallback_numbers)
            )
        except ValidationError as error:
            errors["fallback_numbers"] = error.messages
        if self.exophones.strip() != "*":
            try:
                self.exophones = ";".join(normalize_phone_list(self.exophones))
            except ValidationError as error:
                errors["exophones"] = error.messages
        else:
            self.exophones = "*"
        self.digits = self.digits.strip().strip('"')
        if self.caller_id.strip():
            try:
                self.caller_id = normalize_phone(self.caller_id)
            except ValidationError as error:
                errors["caller_id"] = error.messages
        else:
            self.caller_id = ""
        if errors:
            raise ValidationError(errors)

    @property
    def fallback_number_list(self) -> list[str]:
        return _e164_list(self.fallback_numbers)

    @property
    def exophone_list(self) -> list[str]:
        if self.exophones.strip() == "*":
            return ["*"]
        return _e164_list(self.exophones)


class AgentStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    BREAK = "break", "On break"
    OFFLINE = "offline", "Offline"


class AgentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "AgentQuerySet":
        """Return the agents `user` may see: all for superusers, else their groups'."""
        if user.is_superuser:
            return self
        return self.filter(
            Exists(
                Membership.objects.filter(agent=OuterRef("pk"), group__supervisors=user)
            )
        )


class Agent(models.Model):
    name = models.CharField(max_length=100)
    phone = PhoneNumberField(unique=True)
    status = models.CharField(
        max_length=10, choices=AgentStatus, default=AgentStatus.AVAILABLE
    )
    status_reason = models.CharField(max_length=200, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a break ends by itself (empty: until changed). From then "
        "on the agent counts as available.",
    )
    active = models.BooleanField(
        default=True, help_text="Inactive agents are kept for history but never rung."
    )
    timezone = models.CharField(
        max_length=64, default=DEFAULT_TIMEZONE, validators=[validate_timezone]
    )
    missed_in_row = models.PositiveIntegerField(
        default=0, help_text="Consecutive unanswered offers."
    )
    # Engagement: the claim is a conditional UPDATE of these two fields.
    engaged_until = models.DateTimeField(null=True, blank=True, editable=False)
    engaged_call_sid = models.CharField(max_length=64, blank=True, editable=False)
    last_answered_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the agent's last answered call ended.",
    )
    # The personal page's link: only a hash of the token is kept.
    personal_token_hash = models.CharField(
        max_length=64, blank=True, editable=False, db_index=True
    )

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["timezone"], name="agent_timezone_idx"),
            models.Index(fields=["status", "active"], name="agent_status_active_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.phone})"

    def clean(self):
        if self.timezone:
            validate_timezone(self.timezone)


class Membership(models.Model):
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="memberships"
    )
    group = models.ForeignKey(
        AgentGroup, on_delete=models.CASCADE, related_name="memberships"
    )
    priority = models.PositiveSmallIntegerField(
        default=1, help_text="Tier: 1 rings before 2."
    )
    position = models.PositiveIntegerField(
        default=0, help_text="Order within the tier (lower first)."
    )
    active = models.BooleanField(default=True)
    # The agent's last_answered_at, copied onto each membership when they answer, so
    # longest-idle reads its order from an index (the epoch: never answered).
    idle_since = models.DateTimeField(default=NEVER, editable=False)
    # Fewest-calls' key: the agent's answered calls (in every group) on this
    # group's local day `answered_on`, counted on each membership as they answer.
    # A count from an earlier day is 0 today: it is never reset.
    answered_on = models.DateField(null=True, editable=False)
    answered_today = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["group", "priority", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "group"], name="membership_one_per_agent_and_group"
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1), name="membership_priority_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["group", "priority", "position"], name="membership_order_idx"
            ),
            models.Index(
                fields=["group", "priority", "idle_since", "position"],
                name="membership_idle_order_idx",
            ),
            models.Index(
                fields=[
                    "group",
                    "answered_on",
                    "priority",
                    "answered_today",
                    "position",
                ],
                name="membership_answered_order_idx",
            ),
        ]

    def __str__(self):
        return f"{self.agent.name} in {self.group.name} (tier {self.priority})"

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.start_like_the_agent()
        super().save(*args, **kwargs)

    def start_like_the_agent(self) -> None:
        """A new membership takes its agent's answers so far (unless given):
        longest idle's key, and fewest calls' count from a membership of the agent
        in a group of the same time zone (the same local day). In another zone the
        count starts at 0 and, until that day ends, misses the answers before."""
        answered_at = self.agent.last_answered_at
        if answered_at is None:
            return
        if self.idle_since == NEVER:
            self.idle_since = answered_at
        if self.answered_on is None:
            same_day = (
                Membership.objects.filter(
                    agent_id=self.agent_id, group__timezone=self.group.timezone
                )
                .exclude(answered_on=None)
                .exclude(pk=self.pk)
                .values_list("answered_on", "answered_today")
                .first()
            )
            if same_day:
                self.answered_on, self.answered_today = same_day


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Mon"
    TUESDAY = 1, "Tue"
    WEDNESDAY = 2, "Wed"
    THURSDAY = 3, "Thu"
    FRIDAY = 4, "Fri"
    SATURDAY = 5, "Sat"
    SUNDAY = 6, "Sun"


class WeeklyHours(models.Model):
    """One weekly interval; an end at or before the start crosses midnight."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday)
    starts = models.TimeField()
    ends = models.TimeField(help_text="At or before the start: ends the next day.")

    class Meta:
        abstract = True
        ordering = ["weekday", "starts"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class AgentHours(WeeklyHours):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="hours")

    class Meta(WeeklyHours.Meta):
        verbose_name = "weekly hours"
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="agent_hours_weekday"
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "weekday"], name="agent_hours_lookup_idx"),
        ]


class GroupHours(WeeklyHours):
    group = models.ForeignKey(
        AgentGroup, on_delete=models.CASCADE, related_name="hours"
    )

    class Meta(WeeklyHours.Meta):
        verbose_name = "opening hours"
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="group_hours_weekday"
            ),
        ]


class TimeOff(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="time_off_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "ends_at"], name="time_off_lookup_idx"),
        ]

    def __str__(self):
        return f"{self.agent.name} off {self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M}"


class Holiday(models.Model):
    group = models.ForeignKey(
        AgentGroup, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(help_text="A whole day in the group's time zone.")
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "date"], name="holiday_once_per_day"
            ),
        ]

    def __str__(self):
        return f"{self.name or 'Holiday'} {self.date} ({self.group.name})"


class StatusVia(models.TextChoices):
    ADMIN = "admin", "Admin"
    BOARD = "board", "Live board"
    PAGE = "page", "Personal page"
    KEYPAD = "keypad", "Phone keypad"
    MISSED_CALLS = "missed-calls", "Missed-call pause"
    BREAK_ENDED = "break-ended", "Break ended"
    IMPORT = "import", "Roster import"


class StatusChange(models.Model):
    """One change of an agent's status: the history supervisors and reports read."""

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="status_changes"
    )
    old_status = models.CharField(max_length=10, choices=AgentStatus)
    new_status = models.CharField(max_length=10, choices=AgentStatus)
    reason = models.CharField(max_length=200, blank=True)
    until = models.DateTimeField(
        null=True, blank=True, help_text="When a break set with a length ends."
    )
    changed_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=20, choices=StatusVia)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_status_changes",
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [
            models.Index(
                fields=["agent", "changed_at"], name="status_change_agent_idx"
            ),
        ]

    def __str__(self):
        return (
            f"{self.agent.name}: {self.old_status} -> {self.new_status} "
            f"({self.get_via_display()})"
        )


SKILL_NAME = re.compile(r"[a-z0-9-]{1,40}")
LOWEST_LEVEL, HIGHEST_LEVEL = 1, 5
DEFAULT_SKILL_LEVEL = 3
DEFAULT_NEED_LEVEL = 1


def validate_skill_name(value: str) -> None:
    if not SKILL_NAME.fullmatch(value):
        raise ValidationError(
            f"skill {value!r} must be 1-40 of a-z, 0-9 and '-' (lower case)"
        )


class Skill(models.Model):
    """A skill agents have and routes or callers need; it exists once used."""

    name = models.CharField(
        primary_key=True, max_length=40, validators=[validate_skill_name]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AgentSkill(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="agent_skills"
    )
    level = models.PositiveSmallIntegerField(
        default=DEFAULT_SKILL_LEVEL,
        validators=[MinValueValidator(LOWEST_LEVEL), MaxValueValidator(HIGHEST_LEVEL)],
        help_text="1 (some) to 5 (best).",
    )

    class Meta:
        ordering = ["skill"]
        constraints = [
            # Also the index "meets the needs" looks an agent's skill up in.
            models.UniqueConstraint(
                fields=["agent", "skill"], name="agentskill_agent_skill_unique"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=LOWEST_LEVEL) & Q(level__lte=HIGHEST_LEVEL),
                name="agentskill_level_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["skill", "level"], name="agentskill_skill_level_idx")
        ]

    def __str__(self):
        return f"{self.skill_id}:{self.level}"


class Route(models.Model):
    """A way into an entry group, with the skills its calls need (DESIGN 10.2)."""

    slug = models.SlugField(
        unique=True, help_text="Names the route; shares the groups' namespace."
    )
    group = models.ForeignKey(
        AgentGroup,
        on_delete=models.PROTECT,
        related_name="routes",
        help_text="The call's entry group.",
    )
    needs = models.CharField(
        max_length=500,
        blank=True,
        help_text="Skills the call needs, ';'-separated skill or skill:min "
        "(min 1-5, default 1).",
    )
    relax_after = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Empty: never (only agents who meet the needs). 0: the needs are "
        "a preference. N: strict for N seconds, then a preference.",
    )
    exophones = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_exophones],
        help_text="ExoPhones whose calls take this route on the unpinned URL, "
        "separated by ';', or '*' for any.",
    )
    digits = models.CharField(
        max_length=20, blank=True, help_text="IVR input that selects it (empty: any)."
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug

    @property
    def exophone_list(self) -> list[str]:
        if self.exophones.strip() == "*":
            return ["*"]
        return _e164_list(self.exophones)


class Binding(models.TextChoices):
    LOOSE = "loose", "Loose (owner first, then the others)"
    STRICT = "strict", "Strict (only the owner)"


class Caller(models.Model):
    """A known caller (DESIGN 10.3), found by their number in E.164."""

    number = models.CharField(max_length=20, unique=True, help_text="E.164.")
    name = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_callers",
        help_text="The agent who owns this caller's account.",
    )
    binding = models.CharField(max_length=10, choices=Binding, default=Binding.LOOSE)
    vip = models.BooleanField("VIP", default=False)
    blocked = models.BooleanField(default=False)
    needs = models.CharField(
        max_length=500,
        blank=True,
        help_text="The caller's own needs (a language), as a route's.",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(binding="loose") | Q(owner__isnull=False),
                name="caller_strict_needs_owner",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.number})" if self.name else self.number
