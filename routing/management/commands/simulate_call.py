"""Run one whole call through the routing service, as Exotel would."""

import datetime as dt
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from routing.exotel import ExotelRequestError, parse_exotel_request
from routing.services import UnknownGroup, record_call_end, route_call

MAX_REQUESTS = 100


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Simulate a call to GROUP: ask whom to dial, report each attempt as not "
        "answered (or answered on --answer-on N) until the answer is empty. Runs "
        "the endpoint's service code; rolled back unless --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("group", help="slug of the group (the pinned URL's)")
        parser.add_argument("--caller", default="", help="the caller's number")
        parser.add_argument(
            "--answer-on",
            type=int,
            default=0,
            metavar="N",
            help="the Nth number dialled answers (default: nobody answers)",
        )
        parser.add_argument(
            "--commit",
            action="store_true",
            help="keep the simulated call in the log and its agents engaged",
        )

    def handle(self, *args, group, caller, answer_on, commit, **options):
        self.verbosity = options["verbosity"]
        try:
            with transaction.atomic():
                self.simulate(group=group, caller=caller, answer_on=answer_on)
                if not commit:
                    raise _Rollback
        except _Rollback:
            self.stdout.write("(simulation rolled back: nothing was recorded)")
        except UnknownGroup as error:
            raise CommandError(f"unknown group {error}") from error
        except ExotelRequestError as error:
            raise CommandError(str(error)) from error

    def simulate(self, *, group: str, caller: str, answer_on: int) -> None:
        sid = f"sim-{uuid.uuid4().hex}"
        now = timezone.now()
        params = {"CallSid": sid, "From": caller}
        self.stdout.write(f"CallSid {sid}")
        for dialled in range(1, MAX_REQUESTS + 1):
            answer = route_call(
                request=parse_exotel_request(params), group_slug=group, now=now
            )
            self._show(params, answer.numbers, answer.notes)
            if not answer.numbers:
                self.stdout.write(self.style.WARNING("no one left: not answered"))
                return
            number = answer.numbers[0]
            ring = dt.timedelta(seconds=answer.group.ring_seconds)
            if dialled == answer_on:
                self.stdout.write(self.style.SUCCESS(f"{number} answers"))
                end = {**params, "DialWhomNumber": number}
                end.update(DialCallStatus="completed", DialCallDuration="60")
                record_call_end(request=parse_exotel_request(end), now=now + ring)
                self.stdout.write(f"passthru {_query(end)}")
                return
            now += ring
            params = {**params, "DialWhomNumber": number}
            params["DialCallStatus"] = "no-answer"

    def _show(self, params, numbers, notes):
        self.stdout.write(f"GET dial-whom?{_query(params)}")
        self.stdout.write(f"  -> {','.join(numbers) or '(empty)'}")
        if self.verbosity >= 2:
            for note in notes:
                self.stdout.write(f"     {note}")


def _query(params: dict) -> str:
    return "&".join(f"{key}={value}" for key, value in params.items() if value)
