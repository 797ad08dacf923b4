"""The account from the settings: on only with SID, key and token; secrets kept out."""

import pytest

from routing.exotel_api.account import (
    OFF_REASON,
    callback_caller_id,
    configured_account,
    off_reason,
)
from tests.test_settings import load_settings


def test_off_until_sid_key_and_token_are_all_set(settings):
    settings.EXOTEL_ACCOUNT_SID = "acme1"
    settings.EXOTEL_API_KEY = "key"
    settings.EXOTEL_API_TOKEN = ""
    assert configured_account() is None
    assert off_reason() == OFF_REASON
    settings.EXOTEL_API_TOKEN = "token"
    assert configured_account().sid == "acme1"
    assert off_reason() == ""


def test_settings_default_to_singapore_and_off(monkeypatch):
    loaded = load_settings(monkeypatch)
    assert loaded.EXOTEL_API_BASE_URL == "https://api.exotel.com"
    assert (loaded.EXOTEL_ACCOUNT_SID, loaded.EXOTEL_API_KEY) == ("", "")
    assert loaded.EXOTEL_API_TOKEN == ""
    assert loaded.EXOTEL_API_REQUESTS_PER_MINUTE == 200


def test_settings_from_environment(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        EXOTEL_ACCOUNT_SID="acme1",
        EXOTEL_API_KEY="k",
        EXOTEL_API_TOKEN="t",
        EXOTEL_API_BASE_URL="https://api.in.exotel.com",
        EXOTEL_CALLER_ID="+918047000000",
    )
    assert loaded.EXOTEL_API_BASE_URL == "https://api.in.exotel.com"
    assert loaded.EXOTEL_CALLER_ID == "+918047000000"


def test_key_and_token_stay_out_of_repr_and_are_masked(settings):
    settings.EXOTEL_ACCOUNT_SID = "acme1"
    settings.EXOTEL_API_KEY = "secret-key-1"
    settings.EXOTEL_API_TOKEN = "secret-token-2"
    account = configured_account()
    assert "secret" not in repr(account)
    assert account.masked("a secret-key-1 b secret-token-2") == "a *** b ***"
    assert account.path("Calls/x.json") == (
        "https://api.exotel.com/v1/Accounts/acme1/Calls/x.json"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("own", "default", "exophones", "expected"),
    [
        ("+918047000001", "+918047000009", "+918047000002", "+918047000001"),
        ("", "+918047000009", "+918047000002", "+918047000009"),
        ("", "", "+918047000002;+918047000003", "+918047000002"),
        ("", "", "*", ""),
    ],
    ids=["group-setting-first", "then-the-default", "then-first-exophone", "none"],
)
def test_callback_caller_id(settings, make_group, own, default, exophones, expected):
    settings.EXOTEL_CALLER_ID = default
    group = make_group(callback_caller_id=own, exophones=exophones)
    assert callback_caller_id(group) == expected


@pytest.mark.django_db
def test_group_callback_caller_id_is_normalised(make_group):
    group = make_group()
    group.callback_caller_id = "08047000001"
    group.full_clean()
    assert group.callback_caller_id == "+918047000001"
