"""`--help` tells how to use every option: each has a help text, and says its default."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from billing_desk.cli.main import build_parser

_SILENT = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)


def _commands() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    stack = [("billing-desk", build_parser())]
    while stack:
        name, parser = stack.pop()
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend((f"{name} {sub}", p) for sub, p in action.choices.items())


COMMANDS = dict(_commands())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_argument_has_help_and_says_its_default(command: str) -> None:
    parser = COMMANDS[command]
    text = parser.format_help()
    for action in parser._actions:
        if isinstance(action, _SILENT):
            continue
        assert action.help, f"{command}: {action.option_strings or action.dest} has no help text"
        if action.option_strings and action.default not in (None, False, [], ""):
            assert f"(default: {action.default})" in " ".join(text.split()), (command, action.option_strings)


def test_user_add_help_says_how_the_password_is_given() -> None:
    text = " ".join(COMMANDS["billing-desk user add"].format_help().split())
    assert "--password-stdin" in text and "BILLING_DESK_NEW_PASSWORD" in text and "BILLING_DESK_PASSWORD" in text


def test_the_voucher_summary_lists_every_action() -> None:
    summary = next(a for a in COMMANDS["billing-desk"]._subparsers._group_actions[0]._choices_actions  # type: ignore[union-attr]
                   if a.dest == "voucher").help
    assert summary is not None
    for action in COMMANDS["billing-desk voucher"]._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
        assert action in summary, f"the voucher summary does not list {action}"
