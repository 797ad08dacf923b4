"""The admin of DESIGN section 10: skills, routes with needs, known callers.

The forms refuse what the importers refuse, through the same parsers and checks
(`agents.skills`, `agents.importers`, `agents.route_files.check_routes`), so an
export then an import stays a no-op.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.html import format_html_join

from agents.importers import (
    ROUTE_COLUMNS,
    BadValue,
    RouteRow,
    parse_digits,
    parse_exophones,
)
from agents.models import AgentGroup, Caller, Route, Skill
from agents.phones import normalize_phone
from agents.roster_files import ensure_skills
from agents.route_files import check_routes
from agents.skills import describe_needs, format_levels, parse_needs, stored_needs


def clean_needs(text: str) -> str:
    """Needs as a roster file writes them, or a ValidationError with the reason."""
    try:
        needs = parse_needs(text)
    except ValueError as error:
        raise ValidationError(str(error)) from error
    return format_levels(needs)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "agent_count", "agents", "needed_by"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(agent_total=Count("agent_skills"))
            .prefetch_related("agent_skills__agent")
        )

    @admin.display(description="agents who have it", ordering="agent_total")
    def agent_count(self, skill):
        return skill.agent_total

    @admin.display(description="who, at what level")
    def agents(self, skill):
        return (
            format_html_join(
                ", ",
                "{} ({})",
                (
                    (entry.agent.name, entry.level)
                    for entry in sorted(
                        skill.agent_skills.all(), key=lambda e: (-e.level, e.agent.name)
                    )
                ),
            )
            or "nobody has it"
        )

    @admin.display(description="routes and callers that need it")
    def needed_by(self, skill):
        routes = [
            route.slug
            for route in Route.objects.only("slug", "needs")
            if skill.name in dict(stored_needs(route.needs))
        ]
        callers = Caller.objects.filter(needs__contains=f"{skill.name}:").count()
        parts = []
        if routes:
            parts.append("routes " + ", ".join(routes))
        if callers:
            parts.append(f"{callers} caller{'s' if callers != 1 else ''}")
        return "; ".join(parts) or "nobody needs it"


class RouteForm(forms.ModelForm):
    class Meta:
        model = Route
        fields = list(ROUTE_COLUMNS)

    def clean_needs(self):
        return clean_needs(self.cleaned_data["needs"])

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            exophones = parse_exophones(data.get("exophones", "").strip())
            digits = parse_digits(data.get("digits", ""), exophones)
        except BadValue as error:
            raise ValidationError(str(error)) from error
        data["exophones"], data["digits"] = ";".join(exophones), digits
        row = RouteRow(
            line=0,
            slug=data["slug"],
            group=data["group"].slug,
            needs=parse_needs(data["needs"]),
            relax_after=data.get("relax_after"),
            exophones=exophones,
            digits=digits,
        )
        stored = {
            route.slug: route for route in Route.objects.exclude(pk=self.instance.pk)
        }
        groups = {group.slug: group for group in AgentGroup.objects.all()}
        errors = check_routes([row], groups, stored)
        if errors:
            raise ValidationError(
                [error.reason.replace("(line 0)", "(this form)") for error in errors]
            )
        return data

    def save(self, commit=True):
        ensure_skills(name for name, _ in parse_needs(self.cleaned_data["needs"]))
        return super().save(commit)


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    form = RouteForm
    list_display = ["slug", "group", "needs_in_words", "relax", "exophones", "digits"]
    list_select_related = ["group"]
    list_filter = ["group"]
    search_fields = ["slug", "needs", "exophones", "digits"]
    autocomplete_fields = ["group"]

    @admin.display(description="needs")
    def needs_in_words(self, route):
        return describe_needs(stored_needs(route.needs))

    @admin.display(description="relaxes")
    def relax(self, route):
        if route.relax_after is None:
            return "never"
        if route.relax_after == 0:
            return "a preference from the start"
        return f"after {route.relax_after} s"


class CallerForm(forms.ModelForm):
    class Meta:
        model = Caller
        fields = [
            "number",
            "name",
            "owner",
            "binding",
            "vip",
            "blocked",
            "needs",
            "notes",
        ]

    def clean_number(self):
        try:
            return normalize_phone(self.cleaned_data["number"])
        except ValidationError as error:
            raise ValidationError(
                f"invalid number {self.cleaned_data['number']!r}"
            ) from error

    def clean_needs(self):
        return clean_needs(self.cleaned_data["needs"])

    def clean(self):
        data = super().clean()
        if data.get("binding") == "strict" and not data.get("owner"):
            self.add_error("owner", "binding strict needs an owner")
        return data

    def save(self, commit=True):
        ensure_skills(name for name, _ in parse_needs(self.cleaned_data["needs"]))
        return super().save(commit)


@admin.register(Caller)
class CallerAdmin(admin.ModelAdmin):
    form = CallerForm
    list_display = ["number", "name", "owner", "binding", "vip", "blocked", "needs"]
    list_select_related = ["owner"]
    list_filter = ["vip", "blocked", "binding"]
    search_fields = ["number", "name", "notes"]
    raw_id_fields = ["owner"]
    show_full_result_count = False  # 100,000 callers: no second COUNT(*)

    def get_search_results(self, request, queryset, search_term):
        """A number finds its caller in any format (`098...`, `+91 98...`)."""
        try:
            number = normalize_phone(search_term, strict=False)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(number=number), False
