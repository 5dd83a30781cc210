"""`billing-desk gui [--demo]`: open the desktop window (also what a bare `billing-desk` does)."""

from __future__ import annotations

import argparse

from billing_desk.cli.common import Context


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    gui = sub.add_parser("gui", help="open the Billing Desk window")
    gui.add_argument(
        "--demo",
        action="store_true",
        help="use a demo SQLite database (created and seeded on first start) as the demo manager",
    )
    gui.set_defaults(handler=_gui, check_schema=False)


def _gui(ctx: Context, args: argparse.Namespace) -> int:
    from billing_desk.views.app import run_gui  # Qt loads only for this command

    return run_gui(demo=args.demo)
