"""A fake of Exotel's REST API: a real HTTP server on 127.0.0.1, in a thread.

It keeps the shapes of `../shared/exotel/api.md`: Call Details (`Details` only
with `details=true`), Connect two numbers (form in, `Call` out), Basic auth (a
wrong key or token is a 401), an unknown Sid a 404, each as JSON with a
`RestException` body; and it posts status callbacks back to the service, as
form data or JSON. Failures are scripted per request (`fail_next`): 429 with or
without `Retry-After`, 5xx, or a response that never comes. With
`per_minute`, it answers 429 itself past that many requests in a minute of its
`clock`. Nothing here reaches the internet.
"""

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx

SID = "acme1"
KEY = "fake-api-key-0123456789"
TOKEN = "fake-api-token-9876543210"


@dataclass
class Failure:
    status: int  # 0: never answer
    retry_after: str | None = None
    body: dict | None = None


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    at: float
    status: int = 0


@dataclass
class FakeExotel:
    clock: object = None  # a callable; None: the requests' order only
    per_minute: int | None = None
    calls: dict[str, dict] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    callbacks: dict[str, str] = field(default_factory=dict)  # Sid -> StatusCallback
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self._sids = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeExotel":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()  # free the requests that were never to be answered
        self.server.shutdown()
        self.server.server_close()

    # What the fake knows and does.
    def add_call(self, sid: str, *, details: dict | None = None, **fields) -> dict:
        """Make `sid` known to Call Details; `details` is its `Details` object."""
        call = {
            "Sid": sid,
            "ParentCallSid": None,
            "DateCreated": "2026-11-02 12:00:00",
            "DateUpdated": "2026-11-02 12:05:00",
            "AccountSid": SID,
            "From": "09900000001",
            "To": "09800000001",
            "PhoneNumberSid": "08047000000",
            "Status": "completed",
            "StartTime": "2026-11-02 12:00:00",
            "EndTime": "2026-11-02 12:02:00",
            "Duration": "120",
            "Price": "1.500",
            "Direction": "inbound",
            "AnsweredBy": "human",
            "RecordingUrl": None,
            **fields,
        }
        call["Details"] = details or {
            "ConversationDuration": 0,
            "Leg1Status": "completed",
            "Leg2Status": None,
            "Legs": [{"Leg": {"Id": 1, "OnCallDuration": 120}}],
        }
        with self.lock:
            self.calls[sid] = call
        return call

    def fail_next(self, *failures: Failure) -> None:
        """Answer the next requests with these failures, in order."""
        with self.lock:
            self.failures.extend(failures)

    def status_callback(
        self, sid: str, *, as_json: bool = True, **fields
    ) -> httpx.Response:
        """Post a status callback for the call `sid` to its StatusCallback URL."""
        url = self.callbacks[sid]
        call = self.calls[sid]
        body = {
            "CallSid": sid,
            "EventType": "terminal",
            "Status": "completed",
            "DateUpdated": "2026-11-02 12:05:00",
            "RecordingUrl": "",
            "From": call["From"],
            "To": call["To"],
            "Direction": "outbound-api",
            **fields,
        }
        if as_json:
            return httpx.post(url, json=body, timeout=10)
        flat = {}
        for key, value in body.items():
            if key == "Legs":
                for index, leg in enumerate(value):
                    for name, leg_value in leg.items():
                        flat[f"Legs[{index}][{name}]"] = str(leg_value)
            else:
                flat[key] = "" if value is None else str(value)
        return httpx.post(url, data=flat, timeout=10)

    def requests(self, method: str | None = None) -> list[Seen]:
        with self.lock:
            return [seen for seen in self.seen if method in (None, seen.method)]

    # The server's side.
    def _now(self) -> float:
        return self.clock() if self.clock else float(len(self.seen))

    def _answer(self, method, path, query, form, authorised) -> tuple[int, dict, dict]:
        with self.lock:
            now = self._now()
            seen = Seen(method, path, query, form, now)
            self.seen.append(seen)
            failure = self.failures.pop(0) if self.failures else None
            recent = [
                s for s in self.seen if s.status != 429 and now - 60 < s.at <= now
            ]
            limited = self.per_minute is not None and len(recent) > self.per_minute
            status, headers, body = self._route(
                method, path, query, form, authorised, failure, limited
            )
            seen.status = status
            return status, headers, body

    def _route(self, method, path, query, form, authorised, failure, limited):
        if failure is not None:
            headers = (
                {"Retry-After": failure.retry_after} if failure.retry_after else {}
            )
            body = failure.body or _rest_exception(failure.status, "scripted failure")
            return failure.status, headers, body
        if limited:
            return 429, {}, _rest_exception(429, "Too Many Requests")
        if not authorised:
            return 401, {}, _rest_exception(401, "Authentication is required")
        prefix = f"/v1/Accounts/{SID}/Calls/"
        if not path.startswith(prefix) or not path.endswith(".json"):
            return 404, {}, _rest_exception(404, "The requested resource was not found")
        name = path[len(prefix) : -len(".json")]
        if method == "POST" and name == "connect":
            return self._connect(form)
        if method == "GET" and name in self.calls:
            call = dict(self.calls[name])
            if query.get("details") != "true":
                call.pop("Details", None)
            return 200, {}, {"Call": call}
        return 404, {}, _rest_exception(404, f"Call {name} not found")

    def _connect(self, form):
        missing = [name for name in ("From", "To", "CallerId") if not form.get(name)]
        if missing:
            return 400, {}, _rest_exception(400, f"Missing parameter {missing[0]}")
        sid = f"fake{next(self._sids):028x}"
        call = {
            "Sid": sid,
            "From": form["From"],
            "To": form["To"],
            "PhoneNumberSid": form["CallerId"],
            "Status": "in-progress",
            "Direction": "outbound-api",
            "DateCreated": "2026-11-02 12:00:00",
            "EndTime": None,
            "Duration": None,
            "Price": None,
            "RecordingUrl": None,
        }
        self.calls[sid] = {**call, "Details": {}}
        if form.get("StatusCallback"):
            self.callbacks[sid] = form["StatusCallback"]
        return 200, {}, {"Call": call}


def serve_fake_exotel(settings):
    """Start a fake Exotel, point `settings` (pytest-django's) at it; yield it."""
    fake = FakeExotel().start()
    settings.EXOTEL_ACCOUNT_SID = SID
    settings.EXOTEL_API_KEY = KEY
    settings.EXOTEL_API_TOKEN = TOKEN
    settings.EXOTEL_API_BASE_URL = fake.base_url
    try:
        yield fake
    finally:
        fake.stop()


def _rest_exception(status: int, message: str) -> dict:
    return {"RestException": {"Status": status, "Message": message, "Code": None}}


def _handler(fake: FakeExotel):
    expected = "Basic " + base64.b64encode(f"{KEY}:{TOKEN}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def _serve(self, method):
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = {k: v[-1] for k, v in parse_qs(raw).items()}
            authorised = self.headers.get("Authorization") == expected
            status, headers, body = fake._answer(
                method, parts.path, query, form, authorised
            )
            if status == 0:
                fake.release.wait(30)  # the response that never comes
                return
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    return Handler
