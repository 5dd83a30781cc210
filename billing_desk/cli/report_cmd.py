"""`billing-desk report month 2026-11 --currency VND [--json] [--out F.xlsx]`: the month-end
credit report (finance, managers, admins)."""

from __future__ import annotations

import argparse

from billing_desk.cli.common import Context, add_json, add_user, print_json, print_table
from billing_desk.services.ledger import MonthReport


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = sub.add_parser("report", help="finance reports")
    rs = report.add_subparsers(dest="report_command", metavar="WHAT", required=True)
    month = rs.add_parser("month", help="month-end credit report: credit owed, proved from the ledger and the "
                                       "balances (exit 1 when the two disagree)")
    month.add_argument("month", metavar="YYYY-MM", help="the month, in local days of the desk's time zone")
    month.add_argument("--currency", required=True, help="ISO code, e.g. VND")
    month.add_argument("--out", metavar="FILE.xlsx", help="also write the report to this Excel file")
    add_user(month)
    add_json(month)
    month.set_defaults(handler=_month)


def _month(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    report = ctx.app.ledger.month_report(actor, args.month, args.currency)
    if args.out:
        result = ctx.app.exports.export_month_report(actor, args.month, args.currency, args.out, report=report)
    if args.json:
        out = report.to_json()
        if args.out:
            out["file"] = result.path
        print_json(out)
    else:
        _print(report)
        if args.out:
            print(f"Saved to {result.path}.")
    return 0 if report.balanced else 1


def _print(r: MonthReport) -> None:
    print(f"Credit report {r.month}, {r.currency} (local days in {r.zone})")
    print()
    print_table([[label, str(amount)] for label, amount in r.lines()], ["", "amount"], right={1})
    print(f"  opening: top-up {r.opening.topup}, voucher {r.opening.voucher}; "
          f"closing: top-up {r.closing.topup}, voucher {r.closing.voucher}")
    if not r.balanced:
        print(f"ALARM: the ledger and the stored balances differ by {r.difference}; run `billing-desk ledger verify`.")
    if r.usage_by_service:
        print()
        print_table([[s, str(m)] for s, m in r.usage_by_service], ["service", "usage"], right={1})
    if r.gateways:
        print()
        print_table([[g.day.isoformat(), g.method, str(g.count), str(g.amount)] for g in r.gateways],
                    ["settled on", "gateway", "count", "amount"], right={2, 3})
