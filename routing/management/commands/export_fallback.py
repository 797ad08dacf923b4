"""Write one static answer file per group for Exotel's Fallback URL."""

from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from agents.models import AgentGroup
from routing.outage.last_known import on_duty_numbers, write_answer_file


class Command(BaseCommand):
    help = (
        "Write DIR/<slug>.txt for every group: its on-duty numbers now, then its "
        "fallback numbers, in the Exotel answer format (E.164, comma-separated). "
        "Serve DIR from a static host and set it as each Connect applet's "
        "Fallback URL; run every few minutes (README, 'Failure behaviour')."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Where to write the files.")

    def handle(self, *args, directory, verbosity, **options):
        now = timezone.now()
        groups = AgentGroup.objects.select_related("overflow").order_by("slug")
        for group in groups:
            numbers = on_duty_numbers(group, now=now)
            path = write_answer_file(directory, group.slug, numbers)
            if verbosity >= 2:
                self.stdout.write(f"{path}: {len(numbers)} numbers")
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {len(groups)} group files to {directory}.")
        )
