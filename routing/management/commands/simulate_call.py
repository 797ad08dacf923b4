"""Run one whole call through the routing service, as Exotel would."""

import datetime as dt
import json
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from routing.calls.connect_events import record_connect_event
from routing.calls.services import UnknownGroup, record_call_end, route_call
from routing.exotel.connect import (
    DISPLAYED_EVENTS_URL,
    ConnectSettings,
    render_connect_answer,
)
from routing.exotel.events import parse_connect_event
from routing.exotel.requests import ExotelRequestError, parse_exotel_request

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
            "--connect",
            action="store_true",
            help="ask as Programmable Connect: show the JSON answers, and report "
            "rings and the answer as Connect events (a group that rings in "
            "parallel rings each answer's numbers at once)",
        )
        parser.add_argument(
            "--commit",
            action="store_true",
            help="keep the simulated call in the log and its agents engaged",
        )

    def handle(self, *args, group, caller, answer_on, connect, commit, **options):
        self.verbosity = options["verbosity"]
        self.connect = connect
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
        dialled = 0
        for _ in range(MAX_REQUESTS):
            answer = route_call(
                request=parse_exotel_request(params), group_slug=group, now=now
            )
            self._show(params, answer)
            if not answer.numbers:
                self.stdout.write(self.style.WARNING("no one left: not answered"))
                return
            parallel = self.connect and answer.group.parallel_ringing
            round_ = answer.numbers if parallel else answer.numbers[:1]
            ring = dt.timedelta(seconds=answer.group.ring_seconds)
            answerer = None
            for number in round_:
                dialled += 1
                if dialled == answer_on:
                    answerer = number
                self._event(sid, now, EventType="Ringing", DialWhomNumber=number)
            if answerer is not None:
                self.stdout.write(self.style.SUCCESS(f"{answerer} answers"))
                end = {**params, "DialWhomNumber": answerer}
                end.update(DialCallStatus="completed", DialCallDuration="60")
                if self.connect:
                    self._event(
                        sid,
                        now + ring / 2,
                        EventType="Answered",
                        DialWhomNumber=answerer,
                    )
                    self._event(sid, now + ring, EventType="Terminal", **end)
                    return
                record_call_end(request=parse_exotel_request(end), now=now + ring)
                self.stdout.write(f"passthru {_query(end)}")
                return
            now += ring
            # With parallel ringing the whole round rang: any of it closes it.
            params = {**params, "DialWhomNumber": round_[-1]}
            params["DialCallStatus"] = "no-answer"

    def _event(self, sid: str, now: dt.datetime, **fields: str) -> None:
        """Send one Connect event (only with --connect) and show what it did."""
        if not self.connect:
            return
        fields = {"CallSid": sid, **fields}
        record = record_connect_event(event=parse_connect_event(fields), now=now)
        self.stdout.write(f"event {_query(fields)}")
        self.stdout.write(f"  -> {record.effect.note}")

    def _show(self, params, answer):
        if self.connect:
            body = render_connect_answer(
                numbers=answer.numbers,
                settings=ConnectSettings.of_group(answer.group),
                events_url=DISPLAYED_EVENTS_URL,
            )
            self.stdout.write(f"GET connect?{_query(params)}")
            self.stdout.write(f"  -> {json.dumps(body)}")
        else:
            self.stdout.write(f"GET dial-whom?{_query(params)}")
            self.stdout.write(f"  -> {','.join(answer.numbers) or '(empty)'}")
        notes = answer.notes
        if self.verbosity >= 2:
            for note in notes:
                self.stdout.write(f"     {note}")


def _query(params: dict) -> str:
    return "&".join(f"{key}={value}" for key, value in params.items() if value)
