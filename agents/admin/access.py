"""Who may use the supervisors' admin: staff who supervise a group."""

from agents.models import AgentGroup


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
