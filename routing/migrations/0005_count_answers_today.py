# Fewest calls' counts (agents 0005) start from the calls answered so far today.

import zoneinfo

from django.db import migrations
from django.db.models import Count
from django.utils import timezone


def count_todays_answers(apps, schema_editor):
    """Each membership's count of its agent's answered calls since its group's
    local midnight, as the attempts say (what the count replaced)."""
    AgentGroup = apps.get_model("agents", "AgentGroup")
    Membership = apps.get_model("agents", "Membership")
    Attempt = apps.get_model("routing", "Attempt")
    now = timezone.now()
    zones = AgentGroup.objects.order_by().values_list("timezone", flat=True)
    for tz_name in set(zones):
        local = now.astimezone(zoneinfo.ZoneInfo(tz_name))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        answered = (
            Attempt.objects.filter(
                outcome="completed", outcome_at__gte=midnight, agent__isnull=False
            )
            .order_by()
            .values("agent_id")
            .annotate(calls=Count("pk"))
        )
        for row in answered:
            Membership.objects.filter(
                agent_id=row["agent_id"], group__timezone=tz_name
            ).update(answered_on=local.date(), answered_today=row["calls"])


class Migration(migrations.Migration):

    dependencies = [
        ("agents", "0005_membership_answered_today"),
        ("routing", "0004_connect_event_times"),
    ]

    operations = [
        migrations.RunPython(count_todays_answers, migrations.RunPython.noop),
    ]
