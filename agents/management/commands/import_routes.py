"""Load routes with needs from a routes file (DESIGN 10.2)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.importers import RosterFileError, parse_routes_csv
from agents.management.commands.import_agents import read_roster, report
from agents.route_files import import_routes


def add_sync_arguments(parser, what: str, sync: str = "") -> None:
    """The arguments of a file that is synced: the path, --dry-run, --delete-missing."""
    parser.add_argument("path", type=Path, help=f"The {what} CSV file.")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Check and count the changes, then roll them back.",
    )
    parser.add_argument(
        "--delete-missing",
        action="store_true",
        help=f"Delete {what} that are not in the file{sync}.",
    )


class Command(BaseCommand):
    help = (
        "Create or update routes (slug, entry group, needs, relax_after, ExoPhones, "
        "digits) from a CSV file, keyed by slug. All or nothing."
    )

    def add_arguments(self, parser):
        add_sync_arguments(parser, "routes")

    def handle(self, *args, path, dry_run, delete_missing, verbosity, **options):
        try:
            summary = import_routes(
                parsed=parse_routes_csv(read_roster(path)),
                delete_missing=delete_missing,
                dry_run=dry_run,
            )
        except RosterFileError as error:
            raise CommandError(f"{path}: nothing imported.\n{error}") from error
        for warning in summary.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        report(self, summary, "routes", verbosity)
