"""Print the callers each group should call back, for a cron mail."""

import datetime as dt
import zoneinfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agents.models import AgentGroup
from pages.reports.callbacks import missed_callers
from pages.reports.figures import MAX_DAYS

DAY = "%a %d %b %Y"  # as the pages write a day: Tue 01 Dec 2026


class Command(BaseCommand):
    help = (
        "Print, per group, the callers whose calls of the last DAYS days (the "
        "group's calendar days, today included) were not answered and who have "
        "had no answered call since, newest first; callers marked as called back "
        "are left out unless --all. Prints nothing when nobody is waiting, so "
        "cron sends no empty mail."
    )

    def add_arguments(self, parser):
        parser.add_argument("--group", metavar="SLUG", help="one group only")
        parser.add_argument(
            "--days",
            type=int,
            default=1,
            help=f"today and the days before it, 1 to {MAX_DAYS} (default 1)",
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help="list callers already marked as called back too",
        )

    def handle(self, *args, group, days, all, **options):
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be 1 to {MAX_DAYS}, not {days}")
        groups = AgentGroup.objects.order_by("name")
        if group:
            groups = groups.filter(slug=group)
            if not groups:
                raise CommandError(f"unknown group {group}")
        for line in missed_callers_lines(
            groups=groups, days=days, include_called_back=all, now=timezone.now()
        ):
            self.stdout.write(line)


def missed_callers_lines(
    *, groups, days: int, include_called_back: bool, now: dt.datetime
) -> list[str]:
    """Return the text of the list: a heading per group with callers, a line each."""
    lines = []
    for group in groups:
        zone = zoneinfo.ZoneInfo(group.timezone)
        end = now.astimezone(zone).date()
        start = end - dt.timedelta(days=days - 1)
        rows = missed_callers(
            group=group,
            start=start,
            end=end,
            now=now,
            include_called_back=include_called_back,
        )
        if not rows:
            continue
        span = f"{start:{DAY}}" + (f" to {end:{DAY}}" if days > 1 else "")
        lines.append(
            f"{group.name} ({group.slug}), {span}, times in {group.timezone}: "
            f"{len(rows)} caller{'s' if len(rows) != 1 else ''} to call back"
        )
        for row in rows:
            tries = f"{row.tries} tr{'ies' if row.tries != 1 else 'y'}"
            last = row.last_try_at.astimezone(zone)
            line = (
                f"  {row.caller}  {tries}, last {last:{DAY}, %H:%M} "
                f"({row.last_result.label.lower()})"
            )
            if row.last_answered_by:
                line += f"; last answered by {row.last_answered_by}"
            if row.called_back:
                who = row.called_back.marked_by or "someone"
                when = row.called_back.marked_at.astimezone(zone)
                line += f"; called back by {who}, {when:{DAY}, %H:%M}"
            lines.append(line)
        lines.append("")
    return lines
