"""The admin's group form: it refuses whatever `import_groups` refuses."""

from django import forms
from django.core.exceptions import ValidationError

from agents.importers import BadValue, parse_digits, parse_exophones
from agents.models import AgentGroup
from agents.roster_files import GroupLinks, check_groups


class AgentGroupForm(forms.ModelForm):
    # Set by the admin for the user at hand: the slugs of every group they see.
    visible_slugs: frozenset[str] | None = None

    def clean(self):
        cleaned = super().clean()
        try:
            exophones = parse_exophones(self.field_value("exophones").strip())
            digits = parse_digits(self.field_value("digits").strip(), exophones)
        except BadValue:
            return cleaned  # the model's own validation names the field
        overflow = self.field_value("overflow")
        links = GroupLinks(
            line=0,
            slug=self.field_value("slug"),
            overflow=overflow.slug if overflow else "",
            exophones=exophones,
            digits=digits,
        )
        # Every group, not only those the user sees: a route another team owns
        # is taken all the same.
        stored = {}
        for group in AgentGroup.objects.select_related("overflow"):
            if group.pk == self.instance.pk:
                continue
            if group.overflow_id is not None and group.overflow_id == self.instance.pk:
                group.overflow = AgentGroup(slug=links.slug)
            stored[group.slug] = group
        hidden = (
            set() if self.visible_slugs is None else set(stored) - self.visible_slugs
        )
        errors = check_groups([links], stored, hidden=hidden)
        if errors:
            raise ValidationError([error.reason for error in errors])
        return cleaned

    def field_value(self, name: str):
        """Return the submitted value of `name`, or the stored one when not editable."""
        if name in self.cleaned_data:
            return self.cleaned_data[name]
        return getattr(self.instance, name) or ""
