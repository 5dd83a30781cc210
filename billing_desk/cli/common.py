"""What every command shares: the app, login, JSON output, confirmation and errors.

Read commands print JSON alone on stdout with --json. Errors are one line on stderr and a
non-zero exit. A command that would ask for confirmation proceeds without asking when
stdin is not a terminal, and says what it did.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings, load_settings
from billing_desk.domain.errors import AuthenticationFailed, ValidationError
from billing_desk.domain.ids import MAX_ROW_ID
from billing_desk.domain.permissions import Actor

Handler = Callable[["Context", argparse.Namespace], int | None]


@dataclass
class Context:
    """Lazily built per command: the settings, the app (with the schema gate) and the
    logged-in staff member."""

    check_schema: bool = True
    _settings: Settings | None = field(default=None, repr=False)
    _app: App | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """The configuration, read and checked when a command first needs it, before anything
        connects: a bad value stops the command with one line naming the file and the key."""
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = build_app(self.settings, check=self.check_schema)
        return self._app

    def actor(self, args: argparse.Namespace) -> Actor:
        name = getattr(args, "user", None) or os.environ.get("BILLING_DESK_USER")
        if not name:
            raise AuthenticationFailed("This command needs a staff login: add --user NAME.")
        return self.app.staff.authenticate(name, read_password(f"Password for {name}: "))

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def read_password(prompt: str) -> str:
    env = os.environ.get("BILLING_DESK_PASSWORD")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise AuthenticationFailed("No password: set BILLING_DESK_PASSWORD or run the command in a terminal.")
    return getpass.getpass(prompt)


NEW_PASSWORD_ENV = "BILLING_DESK_NEW_PASSWORD"


def read_new_password(stdin: bool, *, login_password_too: bool = False) -> str:
    """A new password: the first line of stdin (``--password-stdin``), else the environment's
    ``BILLING_DESK_NEW_PASSWORD``, else (``login_password_too``: the first admin, who logs in
    with nothing yet) ``BILLING_DESK_PASSWORD``, the password they will log in with; else asked
    twice in a terminal."""
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationError("--password-stdin read an empty line; pipe the password in.")
        return password
    for name in (NEW_PASSWORD_ENV, "BILLING_DESK_PASSWORD") if login_password_too else (NEW_PASSWORD_ENV,):
        if os.environ.get(name):
            return os.environ[name]
    if not sys.stdin.isatty():
        raise ValidationError(f"No terminal to ask for the new password: pipe it in with --password-stdin, or set "
                              f"{NEW_PASSWORD_ENV}.")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat it: "):
        raise ValidationError("The two passwords differ; nothing was changed.")
    return first


def confirm(question: str) -> bool:
    """Ask in a terminal; in a script (stdin not a terminal) the answer is yes."""
    if not sys.stdin.isatty():
        return True
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def print_table(rows: list[list[str]], headers: list[str], right: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    widths = (
        [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
        if rows
        else [len(h) for h in headers]
    )

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    print(line(headers))
    for row in rows:
        print(line(row))


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON only, for scripts")


def add_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", metavar="NAME", help="staff login (password from BILLING_DESK_PASSWORD or a prompt)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    if value > MAX_ROW_ID:  # no id, count or page size is that large, and no database could bind it
        raise argparse.ArgumentTypeError(f"must be at most {MAX_ROW_ID:,}")
    return value
