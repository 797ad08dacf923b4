"""Personal page links: a random token per agent, of which only a hash is kept."""

import hashlib
import re
import secrets

from agents.models import Agent

# secrets.token_urlsafe(32): 32 random bytes (256 bits) in 43 URL-safe characters.
TOKEN_BYTES = 32
TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")


def hash_personal_token(token: str) -> str:
    """Return the stored form of `token`: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_personal_token(*, agent: Agent) -> str:
    """Give `agent` a new personal token and return it; the old one stops at once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    agent.personal_token_hash = hash_personal_token(token)
    Agent.objects.filter(pk=agent.pk).update(
        personal_token_hash=agent.personal_token_hash
    )
    return token


def agent_for_personal_token(token: str) -> Agent | None:
    """Return the agent whose personal token is `token`, or None (also if malformed)."""
    if not TOKEN_FORMAT.fullmatch(token):
        return None
    return Agent.objects.filter(personal_token_hash=hash_personal_token(token)).first()
