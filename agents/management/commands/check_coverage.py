"""Report the hours in the coming days when a group is open and nobody is scheduled."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agents.coverage import coverage_gaps, describe_gap
from agents.models import AgentGroup


def parse_start(value: str) -> dt.datetime:
    """Read `--start` (ISO 8601; without an offset it is in TIME_ZONE)."""
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(f"--start: not a date and time: {value!r}")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = (
        "Print the times in the next days when a group is open but none of its "
        "active agents is scheduled (time off considered); exit non-zero if any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--group", metavar="SLUG", help="Check only this group.")
        parser.add_argument(
            "--days", type=int, default=7, help="How many days ahead (default 7)."
        )
        parser.add_argument(
            "--step",
            type=int,
            default=30,
            choices=[15, 30, 60],
            help="Resolution in minutes (default 30).",
        )
        parser.add_argument(
            "--start",
            type=parse_start,
            help="Start of the window, ISO 8601 (default: now).",
        )

    def handle(self, *args, group, days, step, start, **options):
        if days < 1:
            raise CommandError("--days must be at least 1")
        groups = AgentGroup.objects.order_by("slug")
        if group:
            groups = groups.filter(slug=group)
            if not groups.exists():
                raise CommandError(f"unknown group {group!r}")
        start = start or timezone.now()
        total = 0
        for agent_group in groups:
            gaps = coverage_gaps(
                agent_group, start=start, days=days, step=dt.timedelta(minutes=step)
            )
            total += len(gaps)
            if not gaps:
                if options["verbosity"] >= 2:
                    self.stdout.write(f"{agent_group.slug}: covered")
                continue
            self.stdout.write(
                self.style.WARNING(
                    f"{agent_group.slug}: {len(gaps)} gap(s) ({agent_group.timezone})"
                )
            )
            for gap in gaps:
                self.stdout.write(f"  {describe_gap(gap, agent_group.timezone)}")
        if total:
            raise CommandError(f"{total} coverage gap(s) in the next {days} day(s)")
        self.stdout.write(
            self.style.SUCCESS(f"No coverage gaps in the next {days} day(s).")
        )
