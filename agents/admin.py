"""The supervisors' admin: groups and agents, each supervisor confined to their groups."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    Prefetch,
)
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from agents import rules
from agents.models import (
    CONNECT_SETTINGS,
    Agent,
    AgentGroup,
    AgentHours,
    AgentStatus,
    GroupHours,
    Holiday,
    Membership,
    TimeOff,
)
from agents.phones import normalize_phone
from agents.services import set_agent_status


def supervises(user) -> bool:
    """Return whether `user` is a staff member who supervises at least one group."""
    if not hasattr(user, "_supervises_groups"):
        user._supervises_groups = (
            user.is_active
            and user.is_staff
            and AgentGroup.objects.filter(supervisors=user).exists()
        )
    return user._supervises_groups


class SupervisorAccess:
    """Let supervisors in without model permissions; `get_queryset` scopes them.

    Superusers and users with Django permissions keep the usual rules.
    """

    supervisor_can_add = True
    supervisor_can_delete = True

    def has_module_permission(self, request):
        return super().has_module_permission(request) or supervises(request.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or supervises(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or supervises(request.user)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) or (
            self.supervisor_can_add and supervises(request.user)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) or (
            self.supervisor_can_delete and supervises(request.user)
        )


class MembershipFormSet(BaseInlineFormSet):
    # Set by the inline for supervisors: an agent they add or edit must stay in
    # one of their groups, or it would vanish from their sight.
    require_membership = False

    def clean(self):
        super().clean()
        if not self.require_membership:
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("group")
        ]
        if not kept:
            raise ValidationError("Keep the agent in at least one of your groups.")


class MembershipInline(SupervisorAccess, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["group", "agent", "priority", "position", "active"]

    def get_queryset(self, request):
        # Memberships in other supervisors' groups stay hidden and untouched.
        visible = AgentGroup.objects.visible_to(request.user)
        return (
            super()
            .get_queryset(request)
            .filter(group__in=visible)
            .select_related("agent", "group")
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["queryset"] = AgentGroup.objects.visible_to(request.user)
        if db_field.name == "agent":
            kwargs["queryset"] = Agent.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AgentMembershipInline(MembershipInline):
    fields = ["group", "priority", "position", "active"]
    formset = MembershipFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.require_membership = not request.user.is_superuser
        return formset


class GroupMembershipInline(MembershipInline):
    fields = ["agent", "priority", "position", "active"]
    autocomplete_fields = ["agent"]


class AgentHoursInline(SupervisorAccess, admin.TabularInline):
    model = AgentHours
    extra = 0


class GroupHoursInline(SupervisorAccess, admin.TabularInline):
    model = GroupHours
    extra = 0


class TimeOffInline(SupervisorAccess, admin.TabularInline):
    model = TimeOff
    extra = 0


class HolidayInline(SupervisorAccess, admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(AgentGroup)
class AgentGroupAdmin(SupervisorAccess, admin.ModelAdmin):
    supervisor_can_add = False
    supervisor_can_delete = False
    list_display = [
        "name",
        "slug",
        "strategy",
        "open_now",
        "member_count",
        "overflow",
        "exophones",
        "digits",
        "timezone",
    ]
    list_select_related = ["overflow"]
    list_filter = ["strategy", "timezone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["supervisors"]
    inlines = [GroupMembershipInline, GroupHoursInline, HolidayInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "strategy", "timezone"]}),
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
            {"fields": ["exophones", "digits", "overflow", "fallback_numbers"]},
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
        ("Supervisors", {"fields": ["supervisors"]}),
    ]

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
                aliases={"group": rules.TABLES["group"]},
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


class GroupListFilter(admin.SimpleListFilter):
    title = "group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        groups = AgentGroup.objects.visible_to(request.user).order_by("name")
        return [(str(group.pk), group.name) for group in groups]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(memberships__group_id=self.value())
        return queryset


class OnDutyNowFilter(admin.SimpleListFilter):
    title = "on duty now"
    parameter_name = "on_duty"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(on_duty_now=True)
        if self.value() == "no":
            return queryset.filter(on_duty_now=False)
        return queryset


class StatusActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        max_length=200,
        label="Reason",
        help_text="Kept with the new status (for example 'lunch').",
    )


def set_status(modeladmin, request, queryset, status: AgentStatus) -> None:
    """Set the status of the selected agents, with the reason from the action form."""
    count = set_agent_status(
        agents=queryset,
        status=status,
        reason=request.POST.get("reason", "").strip()[:200],
        now=timezone.now(),
    )
    modeladmin.message_user(
        request,
        f"{count} agent{'s' if count != 1 else ''} set to {status.label.lower()}.",
        messages.SUCCESS,
    )


@admin.action(description="Set selected agents available")
def make_available(modeladmin, request, queryset):
    set_status(modeladmin, request, queryset, AgentStatus.AVAILABLE)


@admin.action(description="Set selected agents on break")
def make_on_break(modeladmin, request, queryset):
    set_status(modeladmin, request, queryset, AgentStatus.BREAK)


@admin.action(description="Set selected agents offline")
def make_offline(modeladmin, request, queryset):
    set_status(modeladmin, request, queryset, AgentStatus.OFFLINE)


@admin.register(Agent)
class AgentAdmin(SupervisorAccess, admin.ModelAdmin):
    supervisor_can_delete = False
    list_display = [
        "name",
        "phone",
        "status",
        "status_reason",
        "on_duty_now",
        "active",
        "group_names",
        "timezone",
        "status_changed_at",
    ]
    list_filter = [GroupListFilter, "status", "active", OnDutyNowFilter]
    search_fields = ["name", "phone"]
    actions = [make_available, make_on_break, make_offline]
    action_form = StatusActionForm
    inlines = [AgentMembershipInline, AgentHoursInline, TimeOffInline]
    fields = [
        "name",
        "phone",
        "status",
        "status_reason",
        "active",
        "timezone",
        "missed_in_row",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .annotate(
                on_duty_now=rules.orm_condition(
                    rules.ON_DUTY, moment=timezone.now(), aliases=rules.ORM_AGENT
                )
            )
            .prefetch_related(
                Prefetch(
                    "memberships",
                    queryset=Membership.objects.filter(
                        group__in=AgentGroup.objects.visible_to(request.user)
                    ).select_related("group"),
                )
            )
        )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        try:
            phone = normalize_phone(search_term, strict=False)
        except ValidationError:
            return results, may_have_duplicates
        return results | queryset.filter(phone=phone), may_have_duplicates

    def save_model(self, request, obj, form, change):
        # A supervisor changing the status by hand restarts the missed-call count.
        if change and {"status", "status_reason"} & set(form.changed_data):
            obj.status_changed_at = timezone.now()
            if "missed_in_row" not in form.changed_data:
                obj.missed_in_row = 0
        super().save_model(request, obj, form, change)

    @admin.display(boolean=True, description="on duty now", ordering="on_duty_now")
    def on_duty_now(self, agent):
        return agent.on_duty_now

    @admin.display(description="groups")
    def group_names(self, agent):
        return ", ".join(
            f"{membership.group.name} ({membership.priority})"
            for membership in agent.memberships.all()
        )
