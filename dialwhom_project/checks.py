"""Deployment checks (`manage.py check --deploy`): the webhook token and the spool.

Django's own deploy checks cover the secret key, HTTPS and cookies; these cover
what only this service knows: the token that authenticates Exotel, and where the
outcomes of an outage wait to be replayed.
"""

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.checks import Tags, Warning, register

# Shorter than this, a token is guessable in the time a token lives: ./dev/start and
# the hint below make 40 hex characters (160 bits).
MIN_TOKEN_LENGTH = 32
# Placeholders that people copy: deploy/dialwhom.env's and the docs'.
EXAMPLE_TOKENS = frozenset(
    {
        "replace-with-a-long-random-token",
        "<token>",
        "...",
        "token",
        "secret",
        "changeme",
        "change-me",
    }
)
TOKEN_HINT = (
    "Set DIALWHOM_WEBHOOK_TOKEN to a long random value, e.g. the output of "
    "python3 -c 'import secrets; print(secrets.token_hex(20))', and put it in "
    "the Exotel URLs (docs/security.md, rotating it)."
)
# Directories whose files do not outlive a reboot (or, under systemd's PrivateTmp,
# a restart of the service).
VOLATILE_DIRECTORIES = ("/tmp", "/var/tmp", "/dev/shm", "/run/user")


@register(Tags.security, deploy=True)
def check_webhook_token(app_configs=None, **kwargs):
    """Warn when the token that authenticates Exotel is missing, short or an example."""
    tokens = settings.DIALWHOM_WEBHOOK_TOKENS
    if not tokens:
        return [
            Warning(
                "DIALWHOM_WEBHOOK_TOKEN is not set: every Exotel webhook answers 404.",
                hint=TOKEN_HINT,
                id="dialwhom.W001",
            )
        ]
    problems = []
    for token in tokens:
        if token.strip().lower() in EXAMPLE_TOKENS:
            problems.append(
                Warning(
                    "A webhook token (DIALWHOM_WEBHOOK_TOKEN or its _PREVIOUS) is "
                    "an example value from the documentation: anyone who read it "
                    "can route your calls.",
                    hint=TOKEN_HINT,
                    id="dialwhom.W003",
                )
            )
        elif len(token) < MIN_TOKEN_LENGTH:
            problems.append(
                Warning(
                    f"A webhook token (DIALWHOM_WEBHOOK_TOKEN or its _PREVIOUS) has "
                    f"{len(token)} characters; use at least {MIN_TOKEN_LENGTH}.",
                    hint=TOKEN_HINT,
                    id="dialwhom.W002",
                )
            )
    return problems


def _is_volatile(path: Path) -> bool:
    resolved = Path(path).resolve()
    roots = {Path(tempfile.gettempdir()).resolve()} | {
        Path(root).resolve() for root in VOLATILE_DIRECTORIES
    }
    return any(resolved == root or root in resolved.parents for root in roots)


@register(Tags.security, deploy=True)
def check_spool_directory(app_configs=None, **kwargs):
    """Warn when the outcome spool lives where a reboot or restart empties it."""
    spool = settings.DIALWHOM_SPOOL_DIR
    if not _is_volatile(spool):
        return []
    return [
        Warning(
            f"DIALWHOM_SPOOL_DIR is {spool}, a temporary directory: the outcomes "
            "kept there during a database outage are lost at a reboot (and, under "
            "systemd's PrivateTmp, at every restart).",
            hint="Set DIALWHOM_SPOOL_DIR to a directory on a disk that survives a "
            "reboot, e.g. /var/lib/dialwhom/spool (deploy/systemd/dialwhom.service "
            "does; docs/operations.md).",
            id="dialwhom.W004",
        )
    ]
