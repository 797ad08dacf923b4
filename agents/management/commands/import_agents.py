"""Load agents and their memberships from an agents file (DESIGN section 3)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.importers import RosterFileError, parse_agents_csv
from agents.roster_files import ImportSummary, import_agents


def read_roster(path: Path) -> str:
    """Return the text of a roster file, tolerating a byte-order mark."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise CommandError(f"{path} is not UTF-8 text: {error}") from error


def report(command: BaseCommand, summary: ImportSummary, what: str, verbosity: int):
    """Write what an import did: one line, and each row at verbosity 2."""
    if verbosity >= 2:
        for detail in summary.details:
            command.stdout.write(detail)
    if summary.dry_run:
        command.stdout.write(
            command.style.WARNING(f"Dry run, rolled back: {what} {summary}.")
        )
    else:
        command.stdout.write(command.style.SUCCESS(f"Imported {what}: {summary}."))


class Command(BaseCommand):
    help = (
        "Create or update agents from a CSV file, keyed by phone. Memberships the "
        "file does not list are removed. All or nothing: one bad row and nothing "
        "is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The agents CSV file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and count the changes, then roll them back.",
        )
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="Make agents that are not in the file inactive.",
        )

    def handle(self, *args, path, dry_run, deactivate_missing, verbosity, **options):
        try:
            summary = import_agents(
                parsed=parse_agents_csv(read_roster(path)),
                deactivate_missing=deactivate_missing,
                dry_run=dry_run,
            )
        except RosterFileError as error:
            raise CommandError(f"{path}: nothing imported.\n{error}") from error
        report(self, summary, "agents", verbosity)
