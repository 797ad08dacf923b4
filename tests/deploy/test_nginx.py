"""deploy/nginx/dialwhom.conf in a real nginx, with TLS, in front of a real gunicorn:
a whole call through it, the forwarded headers gunicorn received, the size limit,
and no webhook token in nginx's logs."""

import http.client
import os
import re
import shutil
import ssl
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.deploy.kit import DEPLOY, moved, require, scratch_directory, stop, wait_until
from tests.servers import free_port, load_roster, start_gunicorn

TOKEN = "9c1e5a7b3d2f4e6a8b0c1d2e3f4a5b6c7d8e9f01"
HOST = "dialwhom.example.com"
CONF = DEPLOY / "nginx" / "dialwhom.conf"
GROUPS_CSV = (
    "slug,name,strategy,batch_size,ring_seconds,max_attempts,wrapup_seconds,"
    "hold_seconds,sticky_days,missed_to_pause,overflow,fallback_numbers,exophones,"
    "digits,timezone,hours\n"
    "support,Support,sequential,1,30,0,30,300,0,0,,,*,,,\n"
)
AGENTS_CSV = (
    "name,phone,groups,status,active,timezone,hours\n"
    "Asha,+919900000001,support,available,yes,,\n"
    "Vikram,+919900000002,support,available,yes,,\n"
)


def render(conf: str, *, root: Path, upstream: int, http_port: int, https_port: int):
    """Return the shipped file pointed at this test's ports, certificate and logs."""
    replacements = [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("/etc/ssl/dialwhom/", f"{root}/tls/"),
        ("/var/log/nginx/", f"{root}/logs/"),
    ]
    conf = moved(conf, replacements, CONF)
    # IPv6 may be off in the test's network namespace.
    return re.sub(r"^\s*listen \[::\].*$", "", conf, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def proxy():
    nginx = require("nginx", "nginx")
    openssl = require("openssl", "openssl")
    root = scratch_directory("dialwhom-nginx-")
    for name in ("tls", "logs", "temp", "gunicorn"):
        (root / name).mkdir(mode=0o755)
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"]
        + ["-keyout", f"{root}/tls/privkey.pem", "-out", f"{root}/tls/fullchain.pem"],
        check=True,
        capture_output=True,
    )

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DIALWHOM_SQLITE_PATH": str(root / "gunicorn" / "db.sqlite3"),
        "DIALWHOM_WEBHOOK_TOKEN": TOKEN,
        "DIALWHOM_LAST_KNOWN_DIR": str(root / "gunicorn" / "last-known"),
        "DIALWHOM_SPOOL_DIR": str(root / "gunicorn" / "spool"),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_BEHIND_HTTPS_PROXY": "yes",
        "DJANGO_SECURE_SSL_REDIRECT": "yes",
    }
    env.pop("DATABASE_URL", None)  # nginx is under test here, not the database
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    (root / "groups.csv").write_text(GROUPS_CSV)
    (root / "agents.csv").write_text(AGENTS_CSV)
    load_roster(env, root / "groups.csv", root / "agents.csv")
    gunicorn_log = root / "gunicorn" / "access.log"
    gunicorn, upstream = start_gunicorn(
        env,
        root / "gunicorn" / "gunicorn.log",
        "--workers",
        "1",
        "--access-logfile",
        str(gunicorn_log),
        "--access-logformat",
        "%(U)s forwarded-for=%({x-forwarded-for}i)s "
        "proto=%({x-forwarded-proto}i)s host=%({host}i)s",
    )
    http_port, https_port = free_port(), free_port()
    site = render(
        CONF.read_text(),
        root=root,
        upstream=upstream,
        http_port=http_port,
        https_port=https_port,
    )
    (root / "dialwhom.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {root}/nginx.pid;\n"
        f"error_log {root}/logs/main-error.log info;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  access_log {root}/logs/main-access.log;\n"
        + "".join(
            f"  {kind}_temp_path {root}/temp/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {root}/dialwhom.conf;\n}}\n"
    )
    command = [nginx, "-p", str(root), "-c", str(root / "nginx.conf")]
    command += ["-e", str(root / "logs" / "startup-error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(
        [*command, "-g", "daemon off;"],
        stdout=(root / "logs" / "nginx.out").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        context = ssl.create_default_context(cafile=root / "tls" / "fullchain.pem")
        proxy = {
            "root": root,
            "https": lambda: _Connection(https_port, context),
            "http_port": http_port,
            "upstream": upstream,
            "gunicorn_log": gunicorn_log,
        }
        wait_until(
            lambda: get(proxy, "/healthz")[0] == 200,
            gunicorn,
            root / "gunicorn" / "gunicorn.log",
        )
        yield proxy
    finally:
        stop(server)
        stop(gunicorn)
        shutil.rmtree(root, ignore_errors=True)


class _Connection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1, the certificate checked against the server's name."""

    def __init__(self, port, context):
        super().__init__("127.0.0.1", port, context=context, timeout=10)

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=HOST)


def get(proxy, path, method="GET", body=None, **headers) -> tuple[int, str]:
    connection = proxy["https"]()
    try:
        connection.request(method, path, body=body, headers={"Host": HOST, **headers})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def quoted(number: str) -> str:
    return urllib.parse.quote(number, safe="")


def test_config_passes_nginx_t(proxy):
    # The fixture ran `nginx -t` on the shipped file (ports and paths moved).
    assert (proxy["root"] / "dialwhom.conf").exists()


def test_a_call_through_nginx_and_no_token_in_its_logs(proxy):
    hook = f"/exotel/{TOKEN}"
    status, first = get(proxy, f"{hook}/dial-whom/?CallSid=nginx-1&From=09812345678")
    assert (status, first) == (200, "+919900000001")
    status, second = get(
        proxy,
        f"{hook}/dial-whom/?CallSid=nginx-1&DialWhomNumber={quoted(first)}"
        "&DialCallStatus=no-answer",
    )
    assert (status, second) == (200, "+919900000002")
    status, _ = get(
        proxy,
        f"{hook}/passthru/?CallSid=nginx-1&DialWhomNumber={quoted(second)}"
        "&DialCallStatus=completed&DialCallDuration=60",
    )
    assert status == 200
    # Percent-encoded, and a referer naming the token: masked as well.
    encoded = "".join(f"%{ord(c):02x}" for c in TOKEN)
    assert get(proxy, f"/exotel/{encoded}/dial-whom/support/?CallSid=nginx-2")[0] in (
        200,
        400,
    )
    assert get(proxy, f"{hook}/dial-whom/nosuch/?CallSid=nginx-3")[0] == 404
    referer = f"https://{HOST}/me/{TOKEN}/"
    assert get(proxy, "/healthz", Referer=referer)[0] == 200
    assert get(proxy, f"{hook}/passthru/?CallSid=nginx-4", Referer=referer)[0] == 200
    # A body past the webhooks' 64 KB limit is refused by nginx, not gunicorn.
    status, _ = get(proxy, f"{hook}/connect-events/", "POST", b"x" * 70_000)
    assert status == 413

    logs = proxy["root"] / "logs"
    # nginx writes a refused request's line once it has closed the connection.
    access = ""
    for _ in range(100):
        access = (logs / "dialwhom.access.log").read_text()
        if " 413 " in access:
            break
        time.sleep(0.1)
    assert (
        '"GET /exotel/***/dial-whom/?CallSid=nginx-1&From=09812345678 HTTP/1.1" 200'
        in access
    )
    assert "/exotel/***/passthru/" in access
    assert f'"https://{HOST}/***"' in access
    assert '"POST /exotel/***/connect-events/ HTTP/1.1" 413' in access
    for log in logs.iterdir():
        text = log.read_text()
        assert TOKEN not in text, log.name
        assert encoded not in text, log.name


def test_gunicorn_gets_the_forwarded_headers(proxy):
    # With DJANGO_SECURE_SSL_REDIRECT on, only X-Forwarded-Proto: https spares the
    # redirect: a request straight to gunicorn is redirected, one through nginx not.
    direct = http.client.HTTPConnection("127.0.0.1", proxy["upstream"], timeout=10)
    direct.request("GET", "/healthz", headers={"Host": HOST})
    assert direct.getresponse().status == 301
    direct.request(
        "GET", "/healthz", headers={"Host": HOST, "X-Forwarded-Proto": "https"}
    )
    assert direct.getresponse().status == 200
    direct.close()

    status, _ = get(proxy, "/healthz")

    assert status == 200
    lines = proxy["gunicorn_log"].read_text().splitlines()
    assert f"/healthz forwarded-for=127.0.0.1 proto=https host={HOST}" in lines


def test_plain_http_is_sent_to_https(proxy):
    connection = http.client.HTTPConnection("127.0.0.1", proxy["http_port"], timeout=10)
    connection.request("GET", f"/exotel/{TOKEN}/dial-whom/", headers={"Host": HOST})
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location").startswith(f"https://{HOST}/exotel/")
    connection.close()
    assert TOKEN not in (proxy["root"] / "logs" / "dialwhom.access.log").read_text()


def test_webhook_timeouts_stay_under_exotels_ten_seconds():
    conf = CONF.read_text()
    webhook = conf[conf.index("location /exotel/") :]
    webhook = webhook[: webhook.index("}")]
    server = conf[conf.index("listen 443") :]
    timeouts = {
        name: int(seconds)
        for name, seconds in re.findall(r"^\s*(\w+_timeout) (\d+)s;", server, re.M)
    }
    timeouts.update(
        (name, int(seconds))
        for name, seconds in re.findall(r"^\s*(\w+_timeout) (\d+)s;", webhook, re.M)
    )
    assert timeouts["proxy_read_timeout"] < 10
    assert timeouts["proxy_connect_timeout"] < 10
    assert timeouts["proxy_next_upstream_timeout"] < 10
    assert timeouts["client_header_timeout"] < 10
