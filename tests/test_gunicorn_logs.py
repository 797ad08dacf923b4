"""A real gunicorn, access log on as dev/start has it: no log line and no error
page carries the webhook token, whatever the request; the metrics add up the
workers and are hidden without their own token.
"""

import http.client
import os
import random
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.servers import load_roster, start_gunicorn

TOKEN = "f3a9c1d2e4b5a6978877665544332211deadbeef"
METRICS_TOKEN = "metrics-secret-0123456789"
GROUPS_CSV = (
    "slug,name,strategy,batch_size,ring_seconds,max_attempts,wrapup_seconds,"
    "hold_seconds,sticky_days,missed_to_pause,overflow,fallback_numbers,exophones,"
    "digits,timezone,hours\n"
    "support,Support,sequential,1,30,0,30,0,0,0,,,*,,,\n"
)
AGENTS_CSV = (
    "name,phone,groups,status,active,timezone,hours\n"
    "Asha,+919900000001,support,available,yes,,\n"
)


def _raw(port: int, data: bytes) -> bytes:
    """Send raw bytes (a malformed request) and return everything answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("gunicorn-logs")
    env = {
        # On PostgreSQL when the suite is (its column lengths are enforced).
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.broken_site.settings",
        "DIALWHOM_SQLITE_PATH": str(root / "db.sqlite3"),
        "DIALWHOM_WEBHOOK_TOKEN": TOKEN,
        "DIALWHOM_METRICS_TOKEN": METRICS_TOKEN,
        "DIALWHOM_LAST_KNOWN_DIR": str(root / "last-known"),
        "DIALWHOM_SPOOL_DIR": str(root / "spool"),
        "DJANGO_LOG_LEVEL": "INFO",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    (root / "groups.csv").write_text(GROUPS_CSV)
    (root / "agents.csv").write_text(AGENTS_CSV)
    load_roster(env, root / "groups.csv", root / "agents.csv")
    log = root / "gunicorn.log"
    process, port = start_gunicorn(
        env, log, "--workers", "2", "--access-logfile", "-", "--log-level", "debug"
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if _get(port, "/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    yield port, process, log
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


HOOK = f"/exotel/{TOKEN}"
REQUESTS = [
    (f"{HOOK}/dial-whom/support/?CallSid=log-call-1", 200),
    (f"{HOOK}/dial-whom/?CallSid=log-call-2&CallTo=08047190001", 200),
    (f"{HOOK}/passthru/?CallSid=log-call-1&DialCallStatus=completed", 200),
    (f"{HOOK}/dial-whom/nosuchgroup/?CallSid=log-call-3", 404),
    (f"{HOOK}/dial-whom/{'x' * 60}/?CallSid=log-call-4", 404),
    (f"{HOOK}/dial-whom/support/?CallSid=bad%20sid", 400),
    # Past Django's 1,000 fields, within gunicorn's 4,094-byte request line.
    (f"{HOOK}/dial-whom/support/?CallSid=many" + "&" * 1001, 400),
    (f"{HOOK}/broken/", 500),
    (f"/exotel/{TOKEN[:-1]}x/dial-whom/?CallSid=wrong-token", 404),
    (f"/exotel/{urllib.parse.quote(TOKEN, safe='')}/passthru/?CallSid=quoted", 200),
    # Every character of the token percent-encoded: still the token to Django.
    ("/exotel/" + "".join(f"%{ord(c):02x}" for c in TOKEN) + "/passthru/", 400),
    # Encoded line breaks: the masking decodes /exotel/ lines, but not these.
    (f"{HOOK}/dial-whom/support/?CallSid=f%0D%0AFORGED-1%00", 400),
    (f"{HOOK}/passthru/?CallSid=forged-2&DialCallStatus=busy%0AFORGED-2%E2%80%A8", 200),
    (f"{HOOK}/passthru/?CallSid=forged-3&x=%0d%0aFORGED-3%C2%85", 200),
]
MALFORMED = [
    f"GET {HOOK}/dial-whom/ HTTP/1.1 trailing\r\n\r\n".encode(),
    f"GET {HOOK}/dial\x01whom/ HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    f"GET {HOOK}/dial-whom/ HTTP/9.9\r\nHost: x\r\n\r\n".encode(),
    f"G\x00T {HOOK}/dial-whom/ HTTP/1.1\r\n\r\n".encode(),
    f"GET {HOOK}/dial-whom/ HTTP/1.1\r\nBad Header: x\r\n\r\n".encode(),
    f"GET {HOOK}/dial-whom/ HTTP/1.1\r\nHost: evil.example\r\n\r\n".encode(),
    f"GET {HOOK}/{'y' * 9000}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
]


def _counted(metrics: str, endpoint: str, status: str) -> float:
    pattern = (
        rf'^dialwhom_webhook_requests_total\{{endpoint="{endpoint}",'
        rf'status="{status}"\}} (\S+)$'
    )
    found = re.search(pattern, metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_metrics_need_their_token_and_add_up_the_workers(server):
    port, _, _ = server
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert _get(port, "/metrics")[0] == 404
    assert _get(port, "/metrics", {"Authorization": "Bearer wrong"})[0] == 404
    assert _get(port, "/metrics", {"Authorization": METRICS_TOKEN})[0] == 404
    status, body = _get(port, "/metrics", bearer)
    assert status == 200
    before = _counted(body.decode(), "dial-whom-group", "200")

    sent = 24
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda n: _get(port, f"{HOOK}/dial-whom/support/?CallSid=m{n}")[0],
                range(sent),
            )
        )
    assert statuses == [200] * sent

    metrics = _get(port, "/metrics", bearer)[1].decode()
    assert _counted(metrics, "dial-whom-group", "200") - before == sent
    assert "dialwhom_webhook_request_duration_seconds_bucket" in metrics
    assert re.search(r"^dialwhom_db_breaker_open 0\.0$", metrics, re.MULTILINE)
    assert re.search(r"^dialwhom_spool_pending_records 0\.0$", metrics, re.MULTILINE)
    # hold_seconds 0 in this roster: nobody stays engaged.
    assert 'dialwhom_engaged_agents{group="support"} 0.0' in metrics


FUZZ_REQUESTS = int(os.environ.get("DIALWHOM_FUZZ_REQUESTS", "300"))
FUZZ_NAMES = ["CallSid", "CallFrom", "From", "To", "CallTo", "digits", "CallType"]
FUZZ_NAMES += ["DialWhomNumber", "DialCallStatus", "DialCallDuration", "x", ""]
FUZZ_VALUES = ["09901320691", "+919900000001", "no-answer", "completed", "null"]
FUZZ_VALUES += ['"2"', "client-hangup", TOKEN, f"/exotel/{TOKEN}/", "\x00", ""]


def _fuzzed_path(generator: random.Random) -> str:
    def text(limit: int) -> str:
        alphabet = "azAZ09-_.~%/?&=+ \u00e9\u0915\x7f\x00" + TOKEN[:4]
        return "".join(
            generator.choice(alphabet) for _ in range(generator.randint(0, limit))
        )

    token = TOKEN if generator.random() < 0.9 else text(50)
    endpoint = generator.choice(
        ["dial-whom/", "dial-whom/support/", "passthru/", f"dial-whom/{text(80)}/"]
    )
    pairs = [
        (
            generator.choice(FUZZ_NAMES + [text(10)]),
            generator.choice(FUZZ_VALUES + [text(60), "sid-" + text(70)]),
        )
        for _ in range(generator.randint(0, 10))
    ]
    if generator.random() < 0.8:
        pairs.insert(0, ("CallSid", f"fuzz-{generator.randint(0, 40)}"))
    path = f"/exotel/{urllib.parse.quote(token, safe='')}/" + urllib.parse.quote(
        endpoint, safe="/"
    )
    return f"{path}?{urllib.parse.urlencode(pairs)}"


def test_fuzzed_requests_never_answer_5xx(server):
    port, _, _ = server
    generator = random.Random(12)
    paths = [_fuzzed_path(generator) for _ in range(FUZZ_REQUESTS)]

    def send(path: str) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        assert TOKEN.encode() not in body, path
        return response.status, path

    with ThreadPoolExecutor(max_workers=4) as pool:
        answered = list(pool.map(send, paths))

    server_errors = [(status, path) for status, path in answered if status >= 500]
    assert server_errors == []
    assert {status for status, _ in answered} >= {200, 400, 404}


def test_no_log_line_or_error_page_carries_the_token(server):
    port, process, log = server
    for path, status in REQUESTS:
        answered, body = _get(port, path)
        assert answered == status, (path[:120], body[:200])
        assert TOKEN.encode() not in body
    for data in MALFORMED:
        answer = _raw(port, data)
        assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
        assert TOKEN.encode() not in answer, answer
    process.terminate()
    process.wait(timeout=10)

    text = log.read_text(errors="replace")
    assert TOKEN not in text
    assert TOKEN[:16] not in text  # no part of it either
    # The access log is on and says which endpoints were asked, masked.
    assert "/exotel/***/dial-whom/support/" in text
    assert "Internal Server Error: /exotel/***/broken/" in text
    assert "Invalid request" in text  # gunicorn's own lines are there too
    # No request starts a line of its own (the app's line or the access log's).
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("FORGED")] == []
    # The app's line and the access log's, each whole.
    assert sum("f\\r\\nFORGED-1\\x00 group=support" in line for line in lines) == 1
    assert sum("?CallSid=f%0D%0AFORGED-1%00 HTTP/1.1" in line for line in lines) == 1
    assert "\x00" not in text
