"""`billing-desk user add|list|role|disable|enable|set-password`."""

from __future__ import annotations

import argparse

from billing_desk.cli.common import Context, add_json, add_user, print_json, print_table, read_new_password


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    user = sub.add_parser("user", help="staff accounts")
    us = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = us.add_parser(
        "add", help="add a staff member (the first one, an admin, needs no login)",
        description="Add a staff member. The new password is read from stdin with --password-stdin, else from "
                    "BILLING_DESK_NEW_PASSWORD, else (for the first admin only) from BILLING_DESK_PASSWORD, the "
                    "password they will log in with; else it is asked for twice in a terminal.")
    add.add_argument("name", help="the login name")
    add.add_argument("--role", required=True, help="support, finance, manager or admin")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the new password from the first line of stdin")
    add_user(add)
    add_json(add)
    add.set_defaults(handler=_add)
    ls = us.add_parser("list", help="list staff")
    add_user(ls)
    add_json(ls)
    ls.set_defaults(handler=_list)
    dis = us.add_parser("disable", help="disable a staff member")
    dis.add_argument("name", help="the login name")
    add_user(dis)
    dis.set_defaults(handler=_disable)
    role = us.add_parser("role", help="give a staff member another role (the last enabled admin keeps theirs)")
    role.add_argument("name", help="the login name")
    role.add_argument("role", help="support, finance, manager or admin")
    add_user(role)
    role.set_defaults(handler=_role)
    en = us.add_parser("enable", help="enable a disabled staff member")
    en.add_argument("name", help="the login name")
    add_user(en)
    en.set_defaults(handler=_enable)
    pw = us.add_parser("set-password", help="set a staff member's password")
    pw.add_argument("name", help="the login name")
    pw.add_argument("--password-stdin", action="store_true", help="read the new password from the first line of stdin")
    add_user(pw)
    pw.set_defaults(handler=_set_password)


def _add(ctx: Context, args: argparse.Namespace) -> int:
    staff = ctx.app.staff
    actor = ctx.actor(args) if (args.user or staff.has_staff()) else None
    password = read_new_password(args.password_stdin, login_password_too=actor is None)
    added = staff.add(actor, args.name, args.role, password)
    if args.json:
        print_json(added.to_json())
    else:
        print(f"Added {added.name} ({added.role}).")
    return 0


def _list(ctx: Context, args: argparse.Namespace) -> int:
    rows = ctx.app.staff.list(ctx.actor(args))
    if args.json:
        print_json([{"name": r.name, "role": r.role, "disabled": r.disabled} for r in rows])
    else:
        print_table([[r.name, r.role, "disabled" if r.disabled else "active"] for r in rows], ["NAME", "ROLE", "STATE"])
    return 0


def _disable(ctx: Context, args: argparse.Namespace) -> int:
    done = ctx.app.staff.disable(ctx.actor(args), args.name)
    print(f"Disabled {done.name}.")
    return 0


def _role(ctx: Context, args: argparse.Namespace) -> int:
    done = ctx.app.staff.set_role(ctx.actor(args), args.name, args.role)
    print(f"{done.name} is now {done.role}.")
    return 0


def _enable(ctx: Context, args: argparse.Namespace) -> int:
    done = ctx.app.staff.enable(ctx.actor(args), args.name)
    print(f"Enabled {done.name}.")
    return 0


def _set_password(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    ctx.app.staff.set_password(actor, args.name, read_new_password(args.password_stdin))
    print(f"Password of {args.name} changed.")
    return 0
