"""The call log in the admin: read-only, scoped to the supervisor's groups."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from agents.admin import supervises
from agents.phones import normalize_phone
from routing.models import Attempt, Call, WebhookRequest


class ReadOnlyAdminMixin:
    """Logs are evidence: nobody adds, edits or deletes them in the admin.

    Supervisors may look, scoped by `get_queryset` to their groups' calls.
    """

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
    fields = [
        "position",
        "number",
        "agent",
        "group",
        "reason",
        "offered_at",
        "hold_until",
        "outcome",
        "outcome_at",
        "talk_seconds",
    ]
    readonly_fields = fields
    ordering = ["position"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agent", "group")


class WebhookRequestInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookRequest
    fields = [
        "received_at",
        "endpoint",
        "params",
        "status_code",
        "response_body",
        "notes",
        "duration_ms",
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


@admin.register(Call)
class CallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "sid",
        "first_seen_at",
        "group",
        "caller",
        "exophone",
        "result",
        "answered_by",
        "attempt_count",
        "timeline",
    ]
    list_select_related = ["group", "answered_by"]
    list_filter = ["result", "group", "attempts__outcome", "first_seen_at"]
    date_hierarchy = "first_seen_at"
    search_fields = ["sid"]
    search_help_text = "CallSid, or the caller's number in any format."
    inlines = [AttemptInline, WebhookRequestInline]
    readonly_fields = ["timeline"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .annotate(attempt_count=Count("attempts", distinct=True))
        )

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            results |= search_by_caller(queryset, search_term, "caller")
        return results, duplicates

    @admin.display(description="numbers offered", ordering="attempt_count")
    def attempt_count(self, call):
        return call.attempt_count

    @admin.display(description="timeline")
    def timeline(self, call):
        url = reverse("supervisor-call-timeline", args=[call.pk])
        return format_html('<a href="{}">why it went where it went</a>', url)


@admin.register(WebhookRequest)
class WebhookRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "endpoint",
        "call_sid",
        "group_slug",
        "status_code",
        "response_body",
        "notes",
        "duration_ms",
    ]
    list_filter = ["endpoint", "status_code", "received_at"]
    search_fields = ["call_sid", "group_slug", "notes"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "received_at",
        "endpoint",
        "call",
        "call_sid",
        "group_slug",
        "params",
        "status_code",
        "response_body",
        "notes",
        "duration_ms",
    ]

    def get_queryset(self, request):
        requests = super().get_queryset(request)
        if request.user.is_superuser:
            return requests
        # Rejected requests name no call, hence no group: superusers only.
        return requests.filter(call__in=Call.objects.visible_to(request.user))
