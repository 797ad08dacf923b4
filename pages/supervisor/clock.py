"""The admin's clock: the time zone of the groups a supervisor keeps."""

from django.conf import settings
from django.utils import timezone

from agents.models import AgentGroup


def admin_time_zone(user) -> str:
    """Return the zone the admin shows `user` times in.

    That of their groups when they all share one, else the server's (a superuser
    over groups in several zones reads each group's own pages for its clock).
    """
    zones = set(
        AgentGroup.objects.visible_to(user)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()[:2]
    )
    return zones.pop() if len(zones) == 1 else settings.TIME_ZONE


class GroupClockMiddleware:
    """Activate `admin_time_zone` for staff on admin pages, for that request only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if not (
            request.path.startswith("/admin/")
            and user
            and user.is_authenticated
            and user.is_staff
        ):
            return self.get_response(request)
        timezone.activate(admin_time_zone(user))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
