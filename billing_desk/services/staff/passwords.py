"""The one rule for a new staff password: long enough, and not one of the most common.

Every door that sets a password (adding staff, an admin setting one, a person changing their
own, the CLI's `user add` and `user set-password`) goes through ``check_new_password``. The
list is the 10,000 most common passwords (resources/passwords, from Django's list); most of
its entries are shorter than the minimum already, but the long ones ('qwerty123456',
'1q2w3e4r5t6y') are exactly what a person reaches for when told "at least 12 characters".
"""

from __future__ import annotations

import gzip
from functools import cache

from billing_desk.domain.errors import ValidationError
from billing_desk.resources import resource_path

MIN_PASSWORD = 12


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(resource_path("passwords", "common-passwords.txt.gz"), "rt", encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def check_new_password(password: str, field: str = "password") -> None:
    """Raise ValidationError (on ``field``) saying what to change; return if the password will do."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"The password needs at least {MIN_PASSWORD} characters; "
                              f"this one has {len(password)}.", field=field)
    # Case and surrounding spaces do not make a common password uncommon.
    if password.strip().lower() in common_passwords():
        raise ValidationError("This is one of the 10,000 most common passwords, guessed first; "
                              "choose another (a few unrelated words make a good one).", field=field)
