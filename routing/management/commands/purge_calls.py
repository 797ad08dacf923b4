"""Delete old calls, their attempts and webhook requests (README, "Retention")."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.utils import timezone

from agents.models import AgentGroup
from routing.retention import purge_calls


class Command(BaseCommand):
    help = (
        "Delete calls first seen more than DAYS days ago, with their attempts and "
        "webhook requests, in batches of short transactions (safe while serving)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, required=True, metavar="DAYS", dest="days"
        )
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, delete and roll back."
        )

    def handle(self, *args, days, batch_size, dry_run, **options):
        if days < 1:
            raise CommandError("--older-than must be at least 1 day")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        sticky = AgentGroup.objects.aggregate(days=Max("sticky_days"))["days"] or 0
        if days < sticky:
            self.stderr.write(
                self.style.WARNING(
                    f"a group sends callers back to their agent of the last {sticky} "
                    f"days: purging after {days} days forgets some of them"
                )
            )
        counts = purge_calls(
            before=timezone.now() - dt.timedelta(days=days),
            batch_size=batch_size,
            dry_run=dry_run,
        )
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(self.style.SUCCESS(f"{verb} {counts}."))
