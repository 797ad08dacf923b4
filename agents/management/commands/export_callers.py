"""Write every known caller as a callers file (DESIGN 10.3), streamed."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.caller_files import export_callers
from agents.management.commands.export_agents import STDOUT


class Command(BaseCommand):
    help = "Write every known caller to a CSV file that import_callers reads back."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="Where to write the CSV; '-' for standard output."
        )

    def handle(self, *args, path, **options):
        if path == STDOUT:
            export_callers(self.stdout)
            return
        try:
            with path.open("w", encoding="utf-8", newline="") as out:
                count = export_callers(out)
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error.strerror}") from error
        self.stdout.write(self.style.SUCCESS(f"Exported {count} callers to {path}."))
