"""The agent groups in the admin, with links to their supervisor pages."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from agents import rules
from agents.admin.access import SupervisorAccess
from agents.admin.group_form import AgentGroupForm
from agents.admin.inlines import GroupHoursInline, GroupMembershipInline, HolidayInline
from agents.models import CONNECT_SETTINGS, AgentGroup
from agents.rules.language import TABLES


def group_page_links(group: AgentGroup):
    """Render links from a group to its supervisor pages and its calls."""
    links = [
        (reverse("supervisor-preview", args=[group.slug]), "routing preview"),
        (reverse("supervisor-board", args=[group.slug]), "live board"),
        (reverse("supervisor-report", args=[group.slug]), "reports"),
        (
            reverse("supervisor-missed-callers", args=[group.slug]),
            "callers to call back",
        ),
        (
            reverse("admin:routing_call_changelist") + f"?group__id__exact={group.pk}",
            "recent calls",
        ),
    ]
    return format_html(
        '<span class="related-pages">{}</span>',
        format_html_join(" · ", '<a href="{}">{}</a>', links),
    )


@admin.register(AgentGroup)
class AgentGroupAdmin(SupervisorAccess, admin.ModelAdmin):
    form = AgentGroupForm
    supervisor_can_add = False
    supervisor_can_delete = False
    list_display = [
        "name",
        "slug",
        "strategy",
        "open_now",
        "member_count",
        "overflow",
        "exophone_lines",
        "digits",
        "timezone",
        "pages",
    ]
    list_select_related = ["overflow"]
    list_filter = ["strategy", "timezone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["supervisors"]
    inlines = [GroupMembershipInline, GroupHoursInline, HolidayInline]
    readonly_fields = ["pages"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "strategy", "timezone", "pages"]}),
        (
            "Calls",
            {
                "fields": [
                    "batch_size",
                    "ring_seconds",
                    "max_attempts",
                    "wrapup_seconds",
                    "hold_seconds",
                    "sticky_days",
                    "missed_to_pause",
                ]
            },
        ),
        (
            "Routes and overflow",
            {
                "fields": [
                    "exophones",
                    "digits",
                    "overflow",
                    "vip_group",
                    "fallback_numbers",
                ]
            },
        ),
        (
            "Programmable Connect",
            {
                "description": "Used only by the Connect applet's dynamic URL "
                "(/connect/); empty fields are left out of its answer. Ring "
                "seconds above is sent as the longest ringing time.",
                "fields": CONNECT_SETTINGS,
            },
        ),
        (
            "Exotel's API",
            {
                "description": "Used only when EXOTEL_ACCOUNT_SID, EXOTEL_API_KEY "
                "and EXOTEL_API_TOKEN are set.",
                "fields": ["callback_caller_id"],
            },
        ),
        ("Supervisors", {"fields": ["supervisors"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser:
            form.visible_slugs = frozenset(
                AgentGroup.objects.visible_to(request.user).values_list(
                    "slug", flat=True
                )
            )
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [fieldset for fieldset in fieldsets if fieldset[0] != "Supervisors"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).visible_to(request.user)
        timezones = list(
            queryset.order_by().values_list("timezone", flat=True).distinct()
        )
        return queryset.annotate(
            open_now=rules.orm_condition(
                [rules.GROUP_OPEN],
                moment=timezone.now(),
                aliases={"group": TABLES["group"]},
                zones=(),
                group_zones=timezones,
            ),
            member_count=Count("memberships", distinct=True),
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "overflow":
            kwargs["queryset"] = AgentGroup.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(boolean=True, description="open now", ordering="open_now")
    def open_now(self, group):
        return group.open_now

    @admin.display(description="members", ordering="member_count")
    def member_count(self, group):
        return group.member_count

    @admin.display(description="ExoPhones")
    def exophone_lines(self, group):
        return format_html_join(
            "",
            '<span class="nowrap">{}</span><br>',
            (("any (*)" if e == "*" else e,) for e in group.exophone_list),
        )

    @admin.display(description="supervisor pages")
    def pages(self, group):
        if group.pk is None:
            return "(after the group is saved)"
        return group_page_links(group)
