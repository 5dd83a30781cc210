"""`billing-desk audit verify|list`: managers and admins."""

from __future__ import annotations

import argparse

from billing_desk.cli.common import Context, add_json, add_user, positive_int, print_json, print_table
from billing_desk.domain.dates import parse_instant
from billing_desk.domain.errors import BillingDeskError


class AuditBroken(BillingDeskError):
    exit_code = 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = sub.add_parser("audit", help="the audit log")
    au = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = au.add_parser("verify", help="check the hash chain and its head")
    verify.add_argument(
        "--expect-head",
        metavar="HASH",
        help="a head hash printed by an earlier verify and kept outside the database: "
        "fails if the log was cut back or rewritten since",
    )
    add_user(verify)
    add_json(verify)
    verify.set_defaults(handler=_verify)
    ls = au.add_parser("list", help="list audit rows, newest first")
    ls.add_argument("--by", metavar="USER", help="only what this staff member did")
    ls.add_argument("--entity", metavar="ENTITY", help="e.g. customer, staff, payment, voucher")
    ls.add_argument("--since", metavar="DATE", help="YYYY-MM-DD or an ISO date-time")
    ls.add_argument("--limit", type=positive_int, default=200, help="at most this many rows, newest first")
    add_user(ls)
    add_json(ls)
    ls.set_defaults(handler=_list)


def _verify(ctx: Context, args: argparse.Namespace) -> int:
    result = ctx.app.audit.verify(ctx.actor(args), expect_head=args.expect_head)
    if args.json:
        print_json(
            {
                "ok": result.ok,
                "checked": result.checked,
                "broken_id": result.broken_id,
                "problem": result.problem,
                "head": result.head.to_json() if result.head else None,
                "recorded_head_id": result.recorded_head_id,
            }
        )
        return 0 if result.ok else 1
    if not result.ok:
        if result.broken_id is None:  # the head, or the recorded head, does not match
            raise AuditBroken(f"Audit chain broken: {result.problem} ({result.checked:,} rows checked).")
        raise AuditBroken(
            f"Audit chain broken at row {result.broken_id}: {result.problem} "
            f"({result.checked} rows before it are intact)."
        )
    print(f"Audit chain intact: {result.checked:,} rows checked.")
    if result.head is not None:
        # Printed so that an operator can keep it outside the database for --expect-head.
        print(f"Head: row {result.head.last_id}, hash {result.head.last_hash}")
    if result.recorded_head_id is not None:
        print(f"The recorded head {args.expect_head.strip().lower()} is row {result.recorded_head_id} of the chain.")
    return 0


def _list(ctx: Context, args: argparse.Namespace) -> int:
    since = parse_instant(args.since, "since") if args.since else None
    rows = ctx.app.audit.list(ctx.actor(args), by=args.by, entity=args.entity, since=since, limit=args.limit)
    if args.json:
        print_json([r.to_json() for r in rows])
    else:
        print_table(
            [
                [
                    str(r.id),
                    r.at.strftime("%Y-%m-%d %H:%M:%S"),
                    r.staff_name,
                    r.action,
                    f"{r.entity} {r.entity_id}",
                    r.reason or "",
                ]
                for r in rows
            ],
            ["ID", "AT (UTC)", "BY", "ACTION", "ENTITY", "REASON"],
            right={0},
        )
    return 0
