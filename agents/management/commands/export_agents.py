"""Write every agent as an agents file (DESIGN section 3)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.roster_files import write_agents

STDOUT = Path("-")


def write_export(command: BaseCommand, path: Path, text: str, what: str) -> None:
    """Write `text` to `path`, or to the command's output for `-`."""
    if path == STDOUT:
        command.stdout.write(text, ending="")
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror}") from error
    rows = text.count("\n") - 1
    command.stdout.write(command.style.SUCCESS(f"Exported {rows} {what} to {path}."))


class Command(BaseCommand):
    help = "Write every agent to a CSV file that import_agents reads back."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="Where to write the CSV; '-' for standard output."
        )

    def handle(self, *args, path, **options):
        # Streamed to the file (or standard output) as the agents are read.
        if path == STDOUT:
            write_agents(self.stdout)
            return
        try:
            with path.open("w", encoding="utf-8", newline="") as out:
                rows = write_agents(out)
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error.strerror}") from error
        self.stdout.write(self.style.SUCCESS(f"Exported {rows} agents to {path}."))
