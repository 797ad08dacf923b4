"""The Exotel account the service calls the API as (DESIGN section 11).

Read from the settings (the environment): the account SID, the API key and token,
and the API's base URL. Without all three of SID, key and token the API features
are off; `off_reason` is the one line that says so. The key and token are
secrets: they appear in no `repr`, log line, page or error message.
"""

from dataclasses import dataclass, field

from django.conf import settings

OFF_REASON = (
    "Exotel's API is off: set EXOTEL_ACCOUNT_SID, EXOTEL_API_KEY and "
    "EXOTEL_API_TOKEN to turn it on"
)


@dataclass(frozen=True)
class Account:
    sid: str
    base_url: str
    # Secrets: kept out of the dataclass's repr and comparisons.
    api_key: str = field(repr=False, compare=False)
    api_token: str = field(repr=False, compare=False)

    def path(self, tail: str) -> str:
        """Return the URL of `tail` under this account (`Calls/connect.json`)."""
        return f"{self.base_url.rstrip('/')}/v1/Accounts/{self.sid}/{tail}"

    def masked(self, text: str) -> str:
        """Return `text` with the key and token replaced by `***`."""
        for secret in (self.api_key, self.api_token):
            if secret:
                text = text.replace(secret, "***")
        return text


def configured_account() -> Account | None:
    """Return the account the settings name, or None when the API is off."""
    sid = settings.EXOTEL_ACCOUNT_SID
    key = settings.EXOTEL_API_KEY
    token = settings.EXOTEL_API_TOKEN
    if not (sid and key and token):
        return None
    return Account(
        sid=sid, base_url=settings.EXOTEL_API_BASE_URL, api_key=key, api_token=token
    )


def off_reason() -> str:
    """Return why the API is off, or "" when it is on."""
    return "" if configured_account() else OFF_REASON


def callback_caller_id(group) -> str:
    """Return the ExoPhone a call-back for `group` shows ("" when none is known).

    The group's own setting, else `EXOTEL_CALLER_ID`, else the first ExoPhone the
    group takes calls on.
    """
    if group is not None and group.callback_caller_id:
        return group.callback_caller_id
    if settings.EXOTEL_CALLER_ID:
        return settings.EXOTEL_CALLER_ID
    if group is not None and group.exophones not in ("", "*"):
        return group.exophones.split(";")[0]
    return ""
