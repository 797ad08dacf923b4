"""Phone numbers as people and Exotel write them, normalised to E.164."""

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def normalize_phone(text: str, *, strict: bool = True) -> str:
    """Return `text` as E.164, reading national numbers in the default region.

    Accepts `09901320691`, `9901320691`, `919901320691`, `+91 99013 20691`.
    `strict` demands a number that exists in the numbering plan (roster data);
    without it, a number of a possible length is enough (what Exotel reports).
    """
    return _e164(text.strip(), settings.PHONENUMBER_DEFAULT_REGION, strict)


# The same few numbers come back all day (exophones, agents, regular callers), and
# parsing a request's three took about a tenth of its Python (a cProfile of first
# requests: 0.37 of some 4 ms).
@functools.lru_cache(maxsize=4096)
def _e164(text: str, region: str, strict: bool) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(f"invalid phone number {text!r}") from error
    valid = (
        phonenumbers.is_valid_number(number)
        if strict
        else phonenumbers.is_possible_number(number)
    )
    if not valid:
        raise ValidationError(f"invalid phone number {text!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone_list(text: str) -> list[str]:
    """Return the `;`-separated numbers in `text` as E.164, in order, without repeats."""
    numbers = []
    for item in text.split(";"):
        if item.strip():
            number = normalize_phone(item)
            if number not in numbers:
                numbers.append(number)
    return numbers
