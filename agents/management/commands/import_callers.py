"""Load known callers from a callers file (DESIGN 10.3), streamed."""

from django.core.management.base import BaseCommand, CommandError

from agents.caller_files import import_callers
from agents.importers import RosterFileError
from agents.management.commands.import_agents import report
from agents.management.commands.import_routes import add_sync_arguments


class Command(BaseCommand):
    help = (
        "Create or update known callers (number, name, owner, binding, vip, "
        "blocked, needs, notes) from a CSV file, keyed by number. Read line by "
        "line and written in batches; all or nothing."
    )

    def add_arguments(self, parser):
        add_sync_arguments(parser, "callers", " (a sync from a CRM)")

    def handle(self, *args, path, dry_run, delete_missing, verbosity, **options):
        try:
            with path.open(encoding="utf-8-sig", newline="") as lines:
                summary = import_callers(
                    lines=lines,
                    delete_missing=delete_missing,
                    dry_run=dry_run,
                    details=verbosity >= 2,
                )
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text: {error}") from error
        except RosterFileError as error:
            raise CommandError(f"{path}: nothing imported.\n{error}") from error
        report(self, summary, "callers", verbosity)
