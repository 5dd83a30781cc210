"""Voucher codes: generation, normalisation, and the keyed hash the database keeps.

A code is 20 characters from a 31-letter alphabet with no look-alikes (no 0/O, 1/I/L),
about 99 bits from ``secrets``, shown as five groups of four (XXXX-XXXX-XXXX-XXXX-XXXX).
The database stores only HMAC-SHA256(key, normalised code) and the last four characters,
so someone who can read the database cannot redeem a code.

The key is a secret shared by every desk that uses the same database. The configuration
says where it comes from (``BILLING_DESK_VOUCHER_KEY``, else ``[vouchers] code_key`` in the
config file, else a key file in the user data folder, ``voucher-code.key``) and the
composition root hands that here; this module creates the key file once and reads it.
Desks sharing a database must be given the same key (copy that file or set the variable),
or codes issued on one desk will not redeem on another.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
import unicodedata
from collections.abc import Callable
from pathlib import Path

from billing_desk.domain.errors import ConfigError, ValidationError
from billing_desk.domain.secret import Secret
from billing_desk.domain.text import shown

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUP = 4
GROUPS = 5
CODE_LENGTH = GROUP * GROUPS
_ALLOWED = frozenset(ALPHABET)
# Separators people type or paste between groups; all are dropped before hashing.
_SEPARATORS = str.maketrans("", "", " -_.\t\u00a0\u2010\u2011\u2012\u2013\u2014")


def code_bits() -> float:
    return CODE_LENGTH * math.log2(len(ALPHABET))


# Bytes below 248 (8 x 31) map evenly onto the alphabet; the rest are dropped. This keeps
# every character uniform while bytes.translate does the work in C: a million codes take
# about a second instead of the twenty that a secrets.choice call per character takes.
_UNIFORM_LIMIT = 256 - 256 % len(ALPHABET)
_BYTE_TO_CHAR = bytes(ord(ALPHABET[b % len(ALPHABET)]) if b < _UNIFORM_LIMIT else 0 for b in range(256))
_REJECTED = bytes(range(_UNIFORM_LIMIT, 256))


def _random_chars(n: int) -> str:
    out: list[str] = []
    have = 0
    while have < n:
        chunk = secrets.token_bytes(n - have + (n - have) // 16 + 16).translate(_BYTE_TO_CHAR, _REJECTED)
        out.append(chunk.decode("ascii"))
        have += len(chunk)
    return "".join(out)[:n]


def generate_code() -> str:
    """One new code, grouped for reading."""
    return format_code(_random_chars(CODE_LENGTH))


def generate_codes(count: int) -> list[str]:
    """``count`` distinct codes (a repeat at ~99 bits is practically impossible, but checked)."""
    seen: set[str] = set()
    codes: list[str] = []
    while len(codes) < count:
        need = count - len(codes)
        chars = _random_chars(need * CODE_LENGTH)
        for i in range(0, len(chars), CODE_LENGTH):
            raw = chars[i : i + CODE_LENGTH]
            if raw not in seen:
                seen.add(raw)
                codes.append(format_code(raw))
    return codes


def format_code(normalised: str) -> str:
    return "-".join(normalised[i : i + GROUP] for i in range(0, len(normalised), GROUP))


def normalise_code(text: str) -> str:
    """The canonical form of what a person typed: upper case, no spaces or dashes.

    Raises ValidationError (a malformed code) when anything else is left.
    """
    value = unicodedata.normalize("NFKC", text or "").translate(_SEPARATORS).upper()
    if not value:
        raise ValidationError("Enter a voucher code.", field="code")
    if len(value) != CODE_LENGTH or not set(value) <= _ALLOWED:
        raise ValidationError(
            f"'{shown(text.strip())}' is not a voucher code: a code has {CODE_LENGTH} letters and digits "
            "in groups of four, like ABCD-EFGH-JKMN-PQRS-TUVW (no 0, O, 1, I or L).",
            field="code",
        )
    return value


def code_hash(key: bytes, normalised: str) -> str:
    return hmac.new(key, normalised.encode("ascii"), hashlib.sha256).hexdigest()


def last4(normalised: str) -> str:
    return normalised[-4:]


def _key_bytes(value: str, where: str) -> bytes:
    clean = value.strip()
    if len(clean) < 32:
        raise ConfigError(f"The voucher code key from {where} is too short: use at least 32 characters.")
    return clean.encode("utf-8")


def _key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two desks starting together on one machine agree on the first file written.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    try:
        return _key_bytes(path.read_text(encoding="ascii"), str(path))
    except OSError as exc:
        raise ConfigError(f"Cannot read the voucher code key file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:  # the file this module writes is hex; another was put in its place
        raise ConfigError(f"The voucher code key file {path} is not text; "
                          "restore it from another desk or set BILLING_DESK_VOUCHER_KEY.") from None


def resolve_code_key(key: Secret | None, key_file: Path) -> bytes:
    """The HMAC key: the configured ``key``, else the one in ``key_file`` (created once)."""
    if key:
        return _key_bytes(key.reveal(), "the configuration")
    return _key_file(key_file)


class CodeKey:
    """Resolves the key on first use (not at import or start-up) and keeps it in memory."""

    def __init__(self, loader: Callable[[], bytes]) -> None:
        self._loader = loader
        self._key: bytes | None = None

    def __call__(self) -> bytes:
        if self._key is None:
            self._key = self._loader()
        return self._key

    def __repr__(self) -> str:
        return "CodeKey('********')"

    @classmethod
    def from_source(cls, key: Secret | None, key_file: Path) -> CodeKey:
        """The key as the configuration gives it: ``key`` when configured, else ``key_file``."""
        return cls(lambda: resolve_code_key(key, key_file))
