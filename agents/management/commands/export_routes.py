"""Write every route as a routes file (DESIGN 10.2)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from agents.management.commands.export_agents import write_export
from agents.route_files import export_routes


class Command(BaseCommand):
    help = "Write every route to a CSV file that import_routes reads back."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="Where to write the CSV; '-' for standard output."
        )

    def handle(self, *args, path, **options):
        write_export(self, path, export_routes(), "routes")
