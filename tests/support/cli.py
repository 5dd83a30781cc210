"""Running `billing-desk ...` in-process against one database, as the ``cli`` fixture does."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest

from tests.support.staff import STAFF_PASSWORD


@dataclass
class CliResult:
    code: int
    out: str
    err: str


class CliRunner:
    """Runs `billing-desk ...` in-process against one database, with stdin not a terminal."""

    def __init__(self, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("BILLING_DESK_DATABASE_URL", db_url)
        monkeypatch.setenv("BILLING_DESK_PASSWORD", STAFF_PASSWORD)
        monkeypatch.delenv("BILLING_DESK_CONFIG", raising=False)

    def __call__(self, *args: str, stdin: str = "", password: str | None = None) -> CliResult:
        from billing_desk.cli.main import main

        if password is not None:
            self.monkeypatch.setenv("BILLING_DESK_PASSWORD", password)
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        if password is not None:
            self.monkeypatch.setenv("BILLING_DESK_PASSWORD", STAFF_PASSWORD)
        return CliResult(code, out.getvalue(), err.getvalue())
