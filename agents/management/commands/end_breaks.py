"""End the breaks whose time is up: those agents are available again (for cron)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agents.status import end_due_breaks


class Command(BaseCommand):
    help = (
        "Make available every agent whose break with an end has ended, and record "
        "it in the status history at the break's end. Routing already counts such "
        "agents as available; this keeps the stored status and history in step."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say how many breaks would end, and change nothing.",
        )

    def handle(self, *args, dry_run, **options):
        with transaction.atomic():
            ended = end_due_breaks(now=timezone.now())
            if dry_run:
                transaction.set_rollback(True)
        verb = "would end" if dry_run else "ended"
        if ended or options["verbosity"] >= 2:
            self.stdout.write(self.style.SUCCESS(f"{ended} break(s) {verb}."))
