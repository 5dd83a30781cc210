"""`billing-desk usage record|import`, `credit adjust`, `ledger verify`, `history`,
`service list|add` and `export credit-history`: the credit ledger from the terminal."""

from __future__ import annotations

import argparse
import sys

from billing_desk.cli.common import Context, add_json, add_user, positive_int, print_json, print_table
from billing_desk.cli.payments_cmd import register_export as register_payments_export
from billing_desk.domain.dates import local_text, parse_day
from billing_desk.domain.enums import CreditSource, EntryStatus, LedgerKind
from billing_desk.domain.errors import BillingDeskError, InsufficientCredit, ValidationError
from billing_desk.services.ledger import HistoryCursor, HistoryFilter, PostingOutcome


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _usage(sub)
    _credit(sub)
    _ledger(sub)
    _history(sub)
    _service(sub)
    _export(sub)


def _usage(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    usage = sub.add_parser("usage", help="usage charges (the marketplace's feed)")
    us = usage.add_subparsers(dest="usage_command", metavar="ACTION", required=True)
    rec = us.add_parser("record", help="charge one usage")
    rec.add_argument("customer", metavar="CUSTOMER", help="id or account number")
    rec.add_argument("--service", required=True, help="the catalog service charged (see `service list`)")
    rec.add_argument("--amount", required=True, help="in the customer's currency, e.g. 15000 or 12.50")
    rec.add_argument("--description", default=None,
                     help="what the customer sees in the history (default: the service's name)")
    rec.add_argument("--key", default=None, help="idempotency key: a repeated key is skipped, never charged twice")
    add_user(rec)
    add_json(rec)
    rec.set_defaults(handler=_record)
    imp = us.add_parser("import", help="apply a usage CSV: customer,timestamp,service,description,amount,key")
    imp.add_argument("file", metavar="FILE.csv",
                     help="UTF-8 CSV with the header customer,timestamp,service,description,amount,key")
    add_user(imp)
    add_json(imp)
    imp.set_defaults(handler=_import)


def _credit(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    credit = sub.add_parser("credit", help="manual credit changes (managers)")
    cs = credit.add_subparsers(dest="credit_command", metavar="ACTION", required=True)
    adj = cs.add_parser("adjust", help="add or remove credit with a reason (audited)")
    adj.add_argument("customer", metavar="CUSTOMER", help="account number (C00000042) or id")
    adj.add_argument("amount", metavar="AMOUNT", help="positive gives credit, negative takes it")
    adj.add_argument("--reason", required=True, help="why: kept in the ledger and the audit log")
    adj.add_argument("--promotion", action="store_true", help="a promotion credit rather than an adjustment")
    adj.add_argument("--source", choices=[s.value for s in CreditSource],
                     help="which credit to move (default: top-up for credits, promotion to voucher; "
                          "debits take voucher credit first)")
    adj.add_argument("--key", default=None, help="idempotency key: the same key again changes nothing")
    add_user(adj)
    add_json(adj)
    adj.set_defaults(handler=_adjust)


def _ledger(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ledger = sub.add_parser("ledger", help="the credit ledger")
    ls = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    ver = ls.add_parser("verify", help="check every stored balance against its ledger rows (exit 1 on mismatch)")
    add_user(ver)
    add_json(ver)
    ver.set_defaults(handler=_verify)


def add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--service", action="append", default=[], help="repeat or comma-separate for several")
    p.add_argument("--status", action="append", default=[], choices=[s.value for s in EntryStatus],
                   help="only rows of this status (repeat for several; default: all)")
    p.add_argument("--kind", action="append", default=[], choices=[k.value for k in LedgerKind],
                   help="only rows of this kind (repeat for several; default: all)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day, local time")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (inclusive), local time")
    p.add_argument("--text", help="text in the description")


def filters_from(args: argparse.Namespace) -> HistoryFilter:
    services = tuple(s.strip() for value in args.service for s in value.split(",") if s.strip())
    return HistoryFilter(
        services=services, statuses=tuple(EntryStatus(s) for s in args.status),
        kinds=tuple(LedgerKind(k) for k in args.kind),
        date_from=parse_day(args.date_from, "from") if args.date_from else None,
        date_to=parse_day(args.date_to, "to") if args.date_to else None, text=args.text,
    )


def _history(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hist = sub.add_parser("history", help="a customer's credit history, newest first")
    hist.add_argument("customer", metavar="CUSTOMER", help="account number (C00000042) or id")
    add_filters(hist)
    hist.add_argument("--limit", type=positive_int, default=50, help="rows per page; --after continues")
    hist.add_argument("--after", metavar="CURSOR", help="the next_cursor of the previous page")
    add_user(hist)
    add_json(hist)
    hist.set_defaults(handler=_show_history)


def _service(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    service = sub.add_parser("service", help="the catalog of usage services")
    ss = service.add_subparsers(dest="service_command", metavar="ACTION", required=True)
    ls = ss.add_parser("list", help="services and fixed labels")
    add_user(ls)
    add_json(ls)
    ls.set_defaults(handler=_list_services)
    add = ss.add_parser("add", help="add a usage service (managers)")
    add.add_argument("name", help="the service's name, as usage lines give it")
    add_user(add)
    add_json(add)
    add.set_defaults(handler=_add_service)


def _export(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = sub.add_parser("export", help="exports to Excel or CSV")
    es = export.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    ch = es.add_parser("credit-history", help="a customer's credit history to .xlsx or .csv")
    ch.add_argument("customer", metavar="CUSTOMER", help="account number (C00000042) or id")
    ch.add_argument("--out", required=True, metavar="FILE", help="the file to write: .xlsx for Excel, .csv for CSV")
    ch.add_argument("--format", choices=["xlsx", "csv"], help="default: from the file name, else xlsx")
    add_filters(ch)
    add_user(ch)
    add_json(ch)
    ch.set_defaults(handler=_export_history)
    register_payments_export(es)


def _print_outcome(o: PostingOutcome, as_json: bool, what: str, key: str | None) -> int:
    if as_json:
        print_json(o.to_json())
    elif o.status is EntryStatus.SUCCESS and o.duplicate:
        print(f"Skipped: this key was already used for {o.account} ({o.status.value}); nothing charged again.")
    elif o.status is EntryStatus.SUCCESS:
        print(f"{what.capitalize()} {o.amount} for {o.account}; balance now {o.balance.total} "
              f"(top-up {o.balance.topup}, voucher {o.balance.voucher}).")
    if o.status is EntryStatus.FAILED:
        # The refused charge stays in the history as a failed row, but for a script it is a
        # refusal: the exit code must say that the customer was not charged (a replayed key
        # gets the same answer as the first attempt).
        raise InsufficientCredit(_not_charged(o, key))
    return 0


def _not_charged(o: PostingOutcome, key: str | None) -> str:
    if o.duplicate:
        return (f"Not charged: the key '{key}' was refused earlier for {o.account} ({o.failure_reason}); "
                "a repeated key is never charged, use a new key to try again.")
    charge = -o.amount if o.amount.minor < 0 else o.amount
    return (f"Not charged: {o.account} has too little credit for {charge} (balance {o.balance.total}); "
            "the refused charge is kept in the history as failed.")


def _record(ctx: Context, args: argparse.Namespace) -> int:
    outcome = ctx.app.ledger.record_usage(ctx.actor(args), args.customer, service=args.service, amount=args.amount,
                                          description=args.description, key=args.key)
    return _print_outcome(outcome, args.json, "charged", args.key)


def _import(ctx: Context, args: argparse.Namespace) -> int:
    report = ctx.app.ledger.import_usage(ctx.actor(args), args.file)
    if args.json:
        print_json(report.to_json())
    else:
        totals = ", ".join(str(m) for m in report.totals) or "nothing"
        print(f"Imported {report.lines:,} lines: {report.charged:,} charged ({totals}), {report.failed:,} failed "
              f"(insufficient credit), {report.duplicates:,} skipped as already seen"
              + (f" ({report.duplicates_failed:,} of them refused before)." if report.duplicates_failed else "."))
    if report.not_charged:
        # The file was applied (it is all or nothing for validation only), but a feed must learn
        # from the exit code that some customers were not charged, as `usage record` tells it.
        raise InsufficientCredit(
            f"{report.not_charged:,} of {report.lines:,} lines were not charged: insufficient credit (kept in the "
            "history as failed rows); every other line was charged, now or before.")
    return 0


def _adjust(ctx: Context, args: argparse.Namespace) -> int:
    outcome = ctx.app.ledger.adjust(ctx.actor(args), args.customer, args.amount, args.reason,
                                    promotion=args.promotion,
                                    source=CreditSource(args.source) if args.source else None, key=args.key)
    return _print_outcome(outcome, args.json, "promotion" if args.promotion else "adjusted", args.key)


def _verify(ctx: Context, args: argparse.Namespace) -> int:
    report = ctx.app.ledger.verify(ctx.actor(args))
    if args.json:
        print_json(report.to_json())
        return 0 if report.ok else 1
    if not report.ok:
        for m in report.mismatches:
            sys.stderr.write(f"MISMATCH {m.describe()}\n")
        for u in report.unjustified:
            sys.stderr.write(f"UNJUSTIFIED {u.describe()}\n")
        raise BillingDeskError(f"Ledger check FAILED: {len(report.mismatches):,} mismatch(es) over "
                             f"{report.customers:,} balances and {report.rows:,} rows, "
                             f"{len(report.unjustified):,} credit(s) without their cause.")
    print(f"Ledger OK: {report.customers:,} balances match {report.rows:,} rows, and every credit has its cause "
          f"({report.seconds:.2f} s).")
    return 0


def _show_history(ctx: Context, args: argparse.Namespace) -> int:
    actor, f = ctx.actor(args), filters_from(args)
    after = HistoryCursor.from_token(args.after) if args.after else None
    page = ctx.app.ledger.history_page(actor, args.customer, f, after, args.limit)
    totals = ctx.app.ledger.history_totals(actor, args.customer, f)
    cursor = page.next_cursor.to_token() if page.next_cursor else None
    if args.json:
        print_json({"rows": [r.to_json() for r in page.rows], "next_cursor": cursor, "filter": f.to_json(),
                    "totals": totals.to_json()})
        return 0
    print_table([[local_text(r.created_at, seconds=True), r.service, r.description[:48],
                  r.status.value + (f" ({r.failure_reason})" if r.failure_reason else ""), str(r.amount)]
                 for r in page.rows], ["DATE", "SERVICE", "DESCRIPTION", "STATUS", "AMOUNT"], right={4})
    print(f"{totals.count:,} matching rows; sum of the successful ones {totals.total if totals.total else '-'}"
          + (f"; next page: --after {cursor}" if cursor else ""))
    return 0


def _list_services(ctx: Context, args: argparse.Namespace) -> int:
    services = ctx.app.ledger.services(ctx.actor(args))
    if args.json:
        print_json([s.to_json() for s in services])
    else:
        print_table([[str(s.id), s.name, "usage" if s.is_usage else "fixed label"] for s in services],
                    ["ID", "NAME", "TYPE"], right={0})
    return 0


def _add_service(ctx: Context, args: argparse.Namespace) -> int:
    added = ctx.app.ledger.add_service(ctx.actor(args), args.name)
    if args.json:
        print_json(added.to_json())
    else:
        print(f"Added usage service '{added.name}'.")
    return 0


def _export_history(ctx: Context, args: argparse.Namespace) -> int:
    actor, f = ctx.actor(args), filters_from(args)
    if args.out == "-":
        raise ValidationError("--out needs a file name; exports are not written to the terminal.")
    result = ctx.app.exports.export_credit_history(actor, args.customer, f, args.out, args.format)
    if args.json:
        print_json(result.to_json())
    else:
        print(f"Exported {result.rows:,} rows to {result.path} ({result.format}, {result.seconds:.1f} s).")
    return 0
