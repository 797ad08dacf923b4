"""The call log in the admin: read-only, scoped to the supervisor's groups."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from agents.admin.access import supervises
from agents.models import Agent, AgentGroup
from agents.phones import normalize_phone
from routing.models import Attempt, Call, DerivedResult, WebhookRequest

# The admin's left-hand model list takes a third of a 1280-pixel laptop screen;
# the breadcrumbs and the index reach every page without it.
admin.site.enable_nav_sidebar = False
# The service has no public site: "View site" would lead to a "Not found" page.
admin.site.site_url = None


def short_sid(sid: str):
    """Render a CallSid shortened on screen, whole on hover and when copied."""
    if not sid:
        return "-"
    return format_html('<span class="sid" title="{}">{}</span>', sid, sid)


def whole_ms(duration_ms: float | None) -> str:
    return "-" if duration_ms is None else f"{round(duration_ms)} ms"


class CheckedChangeList(ChangeList):
    """A changelist whose filter values are checked before its queries run.

    Django converts a date filter's value (`?first_seen_at__gte=0001-01-01`, a
    date hierarchy's year 9999) only when it writes the SQL, and then an
    OverflowError is a 500; here it is the admin's "invalid filter" redirect.
    """

    def get_queryset(self, request, exclude_parameters=None):
        try:
            queryset = super().get_queryset(request, exclude_parameters)
            queryset.query.get_compiler(queryset.db).as_sql()
        except (EmptyResultSet, FullResultSet):
            return queryset
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error
        return queryset


class ReadOnlyAdminMixin:
    """Logs are evidence: nobody adds, edits or deletes them in the admin.

    Supervisors may look, scoped by `get_queryset` to their groups' calls.
    """

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def has_module_permission(self, request):
        return super().has_module_permission(request) or supervises(request.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or supervises(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Attempt
    verbose_name = "number offered"
    verbose_name_plural = "numbers offered"
    fields = [
        "position",
        "number",
        "agent",
        "group",
        "reason",
        "offered_at",
        "held_until",
        "outcome",
        "outcome_at",
        "talk_seconds",
    ]
    readonly_fields = fields
    ordering = ["position"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agent", "group")

    @admin.display(description="held until, if no outcome arrives")
    def held_until(self, attempt):
        if attempt.hold_until is None:
            return "- (holds no one)"
        return formats.date_format(
            timezone.localtime(attempt.hold_until), "DATETIME_FORMAT"
        )


class RequestLabels:
    """What a request's columns mean, in the words of the supervisor pages."""

    @admin.display(description="HTTP", ordering="status_code")
    def http_status(self, request):
        return request.status_code

    @admin.display(description="our answer", ordering="response_body")
    def our_answer(self, request):
        if request.endpoint != WebhookRequest.Endpoint.DIAL_WHOM:
            return request.response_body or "-"
        return request.response_body or "(empty: nobody to dial)"

    @admin.display(description="took", ordering="duration_ms")
    def took(self, request):
        return whole_ms(request.duration_ms)


class WebhookRequestInline(RequestLabels, ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookRequest
    verbose_name = "Exotel request"
    verbose_name_plural = "Exotel requests"
    fields = [
        "received_at",
        "endpoint",
        "params",
        "http_status",
        "our_answer",
        "notes",
        "took",
    ]
    readonly_fields = fields
    ordering = ["received_at"]
    extra = 0


def search_by_caller(queryset, search_term: str, field: str):
    """Match a phone number typed in any format against an E.164 field."""
    try:
        number = normalize_phone(search_term, strict=False)
    except ValidationError:
        return queryset.none()
    return queryset.filter(**{field: number})


class DerivedResultFilter(admin.SimpleListFilter):
    title = "result"
    parameter_name = "result"

    def lookups(self, request, model_admin):
        return DerivedResult.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(derived_result=self.value())
        return queryset


class OfferedToFilter(admin.SimpleListFilter):
    """The calls an agent's number was offered for (linked from the agent)."""

    title = "offered to"
    parameter_name = "agent"

    def lookups(self, request, model_admin):
        # Shown only while filtering: a sidebar list of every agent would be long.
        if not self.value() or not self.value().isdigit():
            return []
        agent = Agent.objects.visible_to(request.user).filter(pk=self.value()).first()
        return [(self.value(), agent.name)] if agent else []

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(attempts__agent_id=self.value()).distinct()
        return queryset


class VisibleGroupFilter(admin.RelatedFieldListFilter):
    """The call's group, offering only the groups the user may see."""

    def field_choices(self, field, request, model_admin):
        groups = AgentGroup.objects.visible_to(request.user).order_by("name")
        return [(group.pk, str(group)) for group in groups]


class OfferOutcomeFilter(admin.ChoicesFieldListFilter):
    """The outcome of one of the call's offers, told apart from the call's result."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "an offer's outcome"


@admin.register(Call)
class CallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "first_seen_at",
        "caller",
        "group",
        "result_now",
        "answered_by_name",
        "attempt_count",
        "call_link",
    ]
    list_display_links = ["first_seen_at"]
    list_select_related = ["group", "answered_by"]
    list_filter = [
        DerivedResultFilter,
        ("group", VisibleGroupFilter),
        OfferedToFilter,
        ("attempts__outcome", OfferOutcomeFilter),
        "first_seen_at",
    ]
    date_hierarchy = "first_seen_at"
    search_fields = ["sid"]
    search_help_text = "CallSid, or the caller's number in any format."
    inlines = [AttemptInline, WebhookRequestInline]
    fields = [
        "sid",
        "caller",
        "exophone",
        "digits",
        "group",
        "first_seen_at",
        "result_now",
        "answered_by",
        "ended_at",
        "talk_seconds",
        "timeline",
    ]
    readonly_fields = ["result_now", "timeline"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .with_derived_result(timezone.now())
            .annotate(attempt_count=Count("attempts", distinct=True))
        )

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            results |= search_by_caller(queryset, search_term, "caller")
        return results, duplicates

    @admin.display(description="answered by", ordering="answered_by__name")
    def answered_by_name(self, call):
        return call.answered_by.name if call.answered_by else "-"

    @admin.display(description="offered", ordering="attempt_count")
    def attempt_count(self, call):
        return call.attempt_count

    @admin.display(description="result", ordering="derived_result")
    def result_now(self, call):
        return DerivedResult(call.derived_result).label

    @admin.display(description="timeline (CallSid)", ordering="sid")
    def call_link(self, call):
        url = reverse("supervisor-call-timeline", args=[call.pk])
        return format_html('<a href="{}">{}</a>', url, short_sid(call.sid))

    @admin.display(description="timeline")
    def timeline(self, call):
        url = reverse("supervisor-call-timeline", args=[call.pk])
        return format_html('<a href="{}">why it went where it went</a>', url)


@admin.register(WebhookRequest)
class WebhookRequestAdmin(RequestLabels, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "endpoint",
        "call_link",
        "group_slug",
        "http_status",
        "our_answer",
        "notes",
        "took",
    ]
    list_display_links = ["received_at"]
    list_filter = ["endpoint", "status_code", "degraded", "received_at"]
    search_fields = ["call_sid", "group_slug", "notes"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "received_at",
        "endpoint",
        "call_link",
        "group_slug",
        "params",
        "http_status",
        "our_answer",
        "notes",
        "took",
    ]

    @admin.display(description="call (CallSid)", ordering="call_sid")
    def call_link(self, request):
        if request.call_id is None:
            return short_sid(request.call_sid)
        url = reverse("supervisor-call-timeline", args=[request.call_id])
        return format_html('<a href="{}">{}</a>', url, short_sid(request.call_sid))

    def get_queryset(self, request):
        requests = super().get_queryset(request)
        if request.user.is_superuser:
            return requests
        # Rejected requests name no call, hence no group: superusers only.
        return requests.filter(call__in=Call.objects.visible_to(request.user))
