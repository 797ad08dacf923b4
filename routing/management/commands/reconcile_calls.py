"""Look up, in Exotel's API, the calls whose end was never reported (DESIGN 11)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from routing.calls.reconcile import ReconcileStopped, reconcile_calls
from routing.exotel_api.client import ExotelApiOff, ExotelClient


class Command(BaseCommand):
    help = (
        "Ask Exotel's Call Details API how the calls nobody reported on ended "
        "(older than --older-than minutes, younger than a day) and record it. "
        "For cron every few minutes: idempotent, paced under the account's rate "
        "limit, and a run that is cut off is taken up by the next."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=5,
            metavar="MINUTES",
            help="Only calls first seen at least this long ago (default 5).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Ask Exotel, say what would be recorded, record nothing.",
        )

    def handle(self, *args, older_than, dry_run, **options):
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 minute")
        try:
            client = ExotelClient.from_settings()
        except ExotelApiOff as off:
            raise CommandError(str(off)) from None
        with client:
            try:
                tally = reconcile_calls(
                    client=client,
                    now=timezone.now(),
                    older_than=dt.timedelta(minutes=older_than),
                    dry_run=dry_run,
                )
            except ReconcileStopped as stop:
                raise CommandError(f"stopped: {stop}") from None
        if options["verbosity"] >= 2:
            for line in tally.lines:
                self.stdout.write(line)
        verb = "Would record" if dry_run else "Recorded"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {tally.recorded} of {tally.candidates} calls "
                f"({tally.answered} answered, {tally.not_answered} not answered); "
                f"{tally.not_over} not over, {tally.not_yet_found} not at Exotel "
                f"yet, {tally.never_found} never found, {tally.failed} failed, "
                f"{tally.ended_meanwhile} ended meanwhile."
            )
        )
        if tally.failed:
            self.stderr.write(
                self.style.WARNING(
                    f"{tally.failed} lookups failed; the next run asks again"
                )
            )
