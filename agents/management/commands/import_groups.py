"""Load agent groups from a groups file (DESIGN section 3)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.importers import RosterFileError, parse_groups_csv
from agents.management.commands.import_agents import read_roster, report
from agents.roster_files import import_groups


class Command(BaseCommand):
    help = (
        "Create or update agent groups from a CSV file, keyed by slug. "
        "All or nothing: one bad row and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The groups CSV file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and count the changes, then roll them back.",
        )

    def handle(self, *args, path, dry_run, verbosity, **options):
        try:
            summary = import_groups(
                parsed=parse_groups_csv(read_roster(path)), dry_run=dry_run
            )
        except RosterFileError as error:
            raise CommandError(f"{path}: nothing imported.\n{error}") from error
        report(self, summary, "groups", verbosity)
