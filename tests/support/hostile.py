"""Hostile input for the reliability suite: SQL payloads, odd text, and what a refusal must
look like (a BillingDeskError with a one-line message) and leave behind (nothing written)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from billing_desk.domain.errors import BillingDeskError
from billing_desk.models import Base

T = TypeVar("T")

# What people paste into a search box to see what breaks: quotes, LIKE wildcards, the escape
# character, statement terminators, tautologies, comments, FTS5 operators, NUL and friends.
SQL_PAYLOADS: tuple[str, ...] = (
    "'", "''", '"', '""', "`", "%", "%%", "_", "__", "\\", "\\\\", "\\%", "\\_", "%_%", "[a-z]%", "*",
    "'; DROP TABLE customers; --", "'; DROP TABLE ledger_entries; --", "\"; DROP TABLE payments; --",
    "' OR 1=1 --", "' OR '1'='1", "\" OR \"\"=\"", "1 OR 1=1", "') OR ('a'='a", "admin'--", "x' UNION SELECT 1,2,3 --",
    "1; SELECT pg_sleep(5)", "'||(SELECT sqlite_version())||'", "$$", "$1", ":q", "?", "%s", "{0}",
    "NEAR(a b)", "a* OR b*", "\"a\" AND \"b\"", "^ab", "col:x", "a\"b", "-x", "+x",
    "\x00", "a\x00b", "\x1b[31m", "\r\n", "\t", "\u2028", "\ufeff", "\ud800", "é", "ß", "İ", "ﬁ", "🙂",
    "x" * 2, "x" * 300, "%" * 1000, "a" * 100_000,
)

# Text that Hypothesis mixes with the payloads: mostly the characters that mean something to SQL.
SQL_ALPHABET = st.sampled_from(list("%_\\'\";-*()=|:?$ ORDANDSELECTorand01xXé\x00\t\n"))
hostile_text = st.one_of(
    st.sampled_from(SQL_PAYLOADS),
    st.text(SQL_ALPHABET, max_size=30),
    st.text(max_size=60),  # any code point, lone surrogates and controls included
)


def is_long_run() -> bool:
    return os.environ.get("BILLING_DESK_HOSTILE_LONG") == "1"


class Tally:
    """Inputs tried and how each ended, per parser: the figures docs/RELIABILITY.md reports."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def note(self, parser: str, outcome: str) -> None:
        self.counts[f"{parser}:{outcome}"] += 1

    def total(self, parser: str) -> int:
        return sum(n for key, n in self.counts.items() if key.split(":", 1)[0] == parser)

    def summary(self) -> str:
        parsers = sorted({k.split(":", 1)[0] for k in self.counts})
        parts = []
        for p in parsers:
            accepted, refused = self.counts[f"{p}:accepted"], self.counts[f"{p}:refused"]
            parts.append(f"{p} {accepted + refused} ({accepted} accepted, {refused} refused)")
        return "; ".join(parts)

    def report(self, title: str, directory: Path) -> None:
        """Print the figures and append them to BILLING_DESK_HOSTILE_REPORT (or a file in ``directory``)."""
        line = f"{title}: {self.summary()}"
        print(line)
        with Path(os.environ.get("BILLING_DESK_HOSTILE_REPORT", directory / "hostile.txt")).open("a") as out:
            out.write(line + "\n")


def check_refusal(exc: BaseException) -> None:
    """A refusal is a BillingDeskError whose message a person can read on one line."""
    assert isinstance(exc, BillingDeskError), f"{type(exc).__name__} escaped: {exc!r}"
    message = str(exc)
    assert message.strip(), "a refusal with no message"
    assert "\n" not in message and "\r" not in message and "\x00" not in message, repr(message)
    assert "Traceback" not in message


def attempt(tally: Tally, parser: str, call: Callable[[], T]) -> T | None:
    """Run ``call``: its value, or None when it refused (as ``check_refusal`` demands)."""
    try:
        value = call()
    except Exception as exc:  # anything but a BillingDeskError fails the check below
        check_refusal(exc)
        tally.note(parser, "refused")
        return None
    tally.note(parser, "accepted")
    return value


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table: what a refused input must leave exactly as it was."""
    with engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables}


@contextmanager
def nothing_written(engine: Engine) -> Iterator[dict[str, Any]]:
    """Assert that the block leaves every table's row count as it found it."""
    before = row_counts(engine)
    state: dict[str, Any] = {"before": before}
    yield state
    after = row_counts(engine)
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    assert not changed, f"a refused input wrote rows (table: before, after): {changed}"
