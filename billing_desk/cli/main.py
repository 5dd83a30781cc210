"""Entry point of `billing-desk`: builds the parser from each command module and runs one."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from billing_desk import __version__
from billing_desk.cli import (
    audit_cmd,
    customer_cmd,
    db_cmd,
    demo_cmd,
    gui_cmd,
    ledger_cmd,
    payments_cmd,
    plan_cmd,
    report_cmd,
    sandbox_cmd,
    user_cmd,
    voucher_cmd,
)
from billing_desk.cli.common import Context
from billing_desk.cli.hints import error_text
from billing_desk.domain.errors import BillingDeskError

# Each capability adds its module here; a module has `register(subparsers)`.
COMMAND_MODULES: list[ModuleType] = [
    db_cmd, user_cmd, audit_cmd, customer_cmd, demo_cmd, gui_cmd,
    ledger_cmd, voucher_cmd, plan_cmd, payments_cmd, sandbox_cmd, report_cmd,
]  # fmt: skip


class _HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, when it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (action.option_strings and "%(default)" not in text and default not in (None, False, [], "")
                and default is not argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        # Python 3.11 takes only '-5' or '-5.5' for a negative number, so an amount such as
        # '-1,000' or '-1.234,50' looked like an unknown option. Any dash followed by a digit
        # is a value here (the rule Python 3.13 adopted): no option of ours starts with a digit.
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str) -> None:  # one line, exit 2, like every other refusal
        self.exit(2, f"billing-desk: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="billing-desk", description="Billing Desk: back office for prepaid credit billing.")
    parser.add_argument("--version", action="version", version=f"billing-desk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


_FLAG_ACTIONS = (argparse._StoreConstAction, argparse._HelpAction, argparse._VersionAction, argparse._CountAction)


def _value_options(parser: argparse.ArgumentParser) -> tuple[set[str], set[str]]:
    """All option strings that take one value, and all option strings, across subcommands."""
    takes_value: set[str] = set()
    every: set[str] = set()
    stack = [parser]
    while stack:
        current = stack.pop()
        for action in current._actions:
            every.update(action.option_strings)
            if action.option_strings and action.nargs in (None, 1) and not isinstance(action, _FLAG_ACTIONS):
                takes_value.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
    return takes_value, every


def glue_dash_values(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """Let an option's value begin with a dash: `--description -2+3` becomes `--description=-2+3`."""
    takes_value, every = _value_options(parser)
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in takes_value and i + 1 < len(argv) and argv[i + 1].startswith("-") and argv[i + 1] not in every:
            out.append(f"{token}={argv[i + 1]}")
            i += 2
            continue
        out.append(token)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    # In a frozen (PyInstaller) build, the export's child process starts this same program;
    # freeze_support runs the child's work there instead of the command line.
    multiprocessing.freeze_support()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(glue_dash_values(raw, parser))
    if args.command is None:
        args = parser.parse_args(["gui"])
    ctx = Context(check_schema=getattr(args, "check_schema", True))
    try:
        code = args.handler(ctx, args)
        return int(code or 0)
    except BillingDeskError as exc:
        sys.stderr.write(f"billing-desk: {error_text(exc)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("billing-desk: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`billing-desk ... --json | head`): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        ctx.close()
