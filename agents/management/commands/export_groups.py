"""Write every agent group as a groups file (DESIGN section 3)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from agents.management.commands.export_agents import write_export
from agents.roster_files import export_groups


class Command(BaseCommand):
    help = "Write every agent group to a CSV file that import_groups reads back."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="Where to write the CSV; '-' for standard output."
        )

    def handle(self, *args, path, **options):
        write_export(self, path, export_groups(), "groups")
