"""`billing-desk topup create`, `billing-desk payments list|show|reconcile|exceptions|close` and `export payments`."""

from __future__ import annotations

import argparse
import sys
import time

from billing_desk.cli.common import Context, add_json, add_user, confirm, positive_int, print_json, print_table
from billing_desk.cli.hints import topup_problem
from billing_desk.domain.dates import day_range_utc, local_text, parse_day
from billing_desk.domain.errors import Cancelled, ValidationError
from billing_desk.domain.money import Money, currency, format_money, parse_money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.services.payments import (
    MAX_PAGE,
    NON_REFUNDABLE_NOTICE,
    FlaggedPayment,
    PaymentChange,
    PaymentException,
    PaymentFilters,
    PaymentRow,
    PaymentSort,
    PaymentStory,
    TopUpResult,
)

NO_LINK_EXIT = 10  # the payment is pending but the gateway gave no link yet


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    topup = sub.add_parser("topup", help="top-ups through VNPay, Stripe or PayPal")
    ts = topup.add_subparsers(dest="topup_command", metavar="ACTION", required=True)
    create = ts.add_parser("create", help="start a top-up and print the checkout link to send")
    create.add_argument("customer", metavar="CUSTOMER", help="id or account number")
    create.add_argument("amount", metavar="AMOUNT", help="in major units as a person writes it: 500000, 25.00")
    add_user(create)
    add_json(create)
    create.set_defaults(handler=_create)

    payments = sub.add_parser("payments", help="gateway payments")
    ps = payments.add_subparsers(dest="payments_command", metavar="ACTION", required=True)
    listing = ps.add_parser("list", help="payments, newest first")
    listing.add_argument("--customer", metavar="C", help="only this customer's payments (account number or id)")
    listing.add_argument("--status", choices=("pending", "success", "failed"),
                         help="only payments of this status (default: all)")
    listing.add_argument("--method", choices=("vnpay", "stripe", "paypal"),
                         help="only payments through this gateway (default: all)")
    listing.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="created on or after this day")
    listing.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="inclusive")
    listing.add_argument("--reference", metavar="PART", help="any 8 or more characters of the gateway reference")
    add_review_filters(listing)
    listing.add_argument("--limit", type=positive_int, default=100, help="at most this many payments, newest first")
    add_user(listing)
    add_json(listing)
    listing.set_defaults(handler=_list)
    show = ps.add_parser("show", help="one payment")
    show.add_argument("payment_id", metavar="ID", type=positive_int, help="the payment's id (payments list shows it)")
    add_user(show)
    add_json(show)
    show.set_defaults(handler=_show)
    _register_finance(ps)
    rec = ps.add_parser("reconcile", help="ask the gateways about every pending payment now")
    rec.add_argument("--customer", metavar="C", help="only this customer's (support may do this)")
    rec.add_argument("--every", type=positive_int, metavar="SECONDS",
                     help="keep running, one pass every SECONDS, until interrupted (a scheduled job)")
    add_user(rec)
    add_json(rec)
    rec.set_defaults(handler=_reconcile)


def _create(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    if not args.json and not confirm(f"Start a top-up of {args.amount} for {args.customer}? {NON_REFUNDABLE_NOTICE}"):
        raise Cancelled("Nothing was started.")
    result = ctx.app.payments.create_topup(actor, args.customer, args.amount)
    problem = topup_problem(result)
    if args.json:
        print_json({**result.to_json(), "problem": problem})
        for line in filter(None, (result.warning, problem)):
            sys.stderr.write(f"billing-desk: {line}\n")
    else:
        _print_topup(result, problem)
    return NO_LINK_EXIT if result.payment.checkout_url is None else 0


def _print_topup(result: TopUpResult, problem: str | None) -> None:
    p = result.payment
    if result.warning:
        print(f"Warning: {result.warning}")
    print(f"Payment {p.id}: {format_money(p.amount)} for {p.customer_account} through {p.method}, {p.status}.")
    if p.checkout_url:
        print(f"Send this link to the customer: {p.checkout_url}")
    if problem:
        print(f"Problem: {problem}")
    print(result.notice)


def add_review_filters(p: argparse.ArgumentParser) -> None:
    """Finance's review filters (payments list and export payments share them)."""
    p.add_argument("--currency", metavar="CUR", help="only payments in this currency (VND, JPY, USD, ...)")
    p.add_argument("--reason", metavar="TEXT", help="text in the status reason: declined, expired, ...")
    p.add_argument("--min", dest="amount_min", metavar="AMOUNT", help="at least this, in major units of --currency")
    p.add_argument("--max", dest="amount_max", metavar="AMOUNT", help="at most this, in major units of --currency")
    p.add_argument("--staff", metavar="NAME", help="only payments this staff member started")
    p.add_argument("--text", metavar="ID|PART", help="a payment id, or 8 or more characters of its reference")
    p.add_argument("--sort", choices=[s.value for s in PaymentSort], default=PaymentSort.NEWEST.value,
                   help="the order (default: newest)")


def _amount(text: str | None, code: str | None, option: str) -> Money | None:
    if text is None:
        return None
    if code is None:
        raise ValidationError(f"{option} needs --currency: amounts are in that currency's major units.",
                              field=option.lstrip("-"))
    return parse_money(text, currency(code).code)


def _staff_id(ctx: Context, actor: Actor, name: str | None) -> int | None:
    if name is None:
        return None
    for staff_id, staff_name in ctx.app.payments.staff_who_started(actor):
        if staff_name.lower() == name.strip().lower():
            return staff_id
    raise ValidationError(f"No staff member named '{name}' has started a payment.", field="staff")


def _filters(args: argparse.Namespace, ctx: Context | None = None, actor: Actor | None = None) -> PaymentFilters:
    start, end = day_range_utc(parse_day(args.date_from, "from") if args.date_from else None,
                               parse_day(args.date_to, "to") if args.date_to else None)
    staff_id = _staff_id(ctx, actor, args.staff) if ctx is not None and actor is not None else None
    return PaymentFilters(customer=args.customer, status=args.status, method=args.method,
                          created_from=start, created_to=end, reference=args.reference, reason=args.reason,
                          currency=args.currency, amount_min=_amount(args.amount_min, args.currency, "--min"),
                          amount_max=_amount(args.amount_max, args.currency, "--max"), staff_id=staff_id,
                          text=args.text)


def _list(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    filters = _filters(args, ctx, actor)
    rows: list[PaymentRow] = []
    cursor = None
    while len(rows) < args.limit:  # keyset pages until the limit is reached
        page = ctx.app.payments.list_payments(actor, filters, cursor, min(MAX_PAGE, args.limit - len(rows)),
                                              args.sort)
        rows.extend(page.rows)
        cursor = page.next_cursor
        if cursor is None:
            break
    if args.json:
        print_json([r.to_json() for r in rows])
    elif not rows:
        print("No payments match.")
    else:
        print_table([[str(r.id), local_text(r.created_at), r.customer_account, r.customer_name,
                      format_money(r.amount), r.method, r.status, r.gateway_reference or "-"] for r in rows],
                    ["ID", "CREATED (UTC)", "ACCOUNT", "CUSTOMER", "AMOUNT", "METHOD", "STATUS", "REFERENCE"],
                    right={0, 4})
        if cursor is not None:
            print(f"(more: raise --limit above {args.limit:,})")
    return 0


def register_export(es: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`export payments`: beside `export credit-history` (ledger_cmd.py builds `export`)."""
    ep = es.add_parser("payments", help="payments across customers, filtered, to .xlsx or .csv (finance)")
    ep.add_argument("--out", required=True, metavar="FILE", help="the file to write: .xlsx for Excel, .csv for CSV")
    ep.add_argument("--format", choices=["xlsx", "csv"], help="default: from the file name, else xlsx")
    ep.add_argument("--customer", metavar="C", help="only this customer's payments (account number or id)")
    ep.add_argument("--status", choices=("pending", "success", "failed"), help="only payments of this status")
    ep.add_argument("--method", choices=("vnpay", "stripe", "paypal"), help="only payments through this gateway")
    ep.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="created on or after this day")
    ep.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="inclusive")
    ep.add_argument("--reference", metavar="PART", help="any 8 or more characters of the gateway reference")
    add_review_filters(ep)
    add_user(ep)
    add_json(ep)
    ep.set_defaults(handler=_export_payments)


def _export_payments(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    if args.out == "-":
        raise ValidationError("--out needs a file name; exports are not written to the terminal.")
    filters = _filters(args, ctx, actor)
    last = [-1.0]

    def progress(done: int, total: int) -> None:  # a line a second at most, on stderr
        now = time.monotonic()
        if now - last[0] >= 1.0 or done == total:
            last[0] = now
            sys.stderr.write(f"billing-desk: {done:,} of {total:,} payments written\n")

    result = ctx.app.exports.export_payments(actor, filters, args.sort, args.out, args.format, progress)
    if args.json:
        print_json(result.to_json())
    else:
        print(f"Exported {result.rows:,} payments to {result.path} ({result.format}, {result.seconds:.1f} s).")
    return 0


def _show(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    # Finance, managers and admins see the story too; support sees the payment as before.
    story = ctx.app.payments.story(actor, args.payment_id) if actor.can(Permission.PAYMENT_REVIEW) else None
    p = story.payment if story else ctx.app.payments.get(actor, args.payment_id)
    if args.json:
        print_json(story.to_json() if story else p.to_json())
        return 0
    print(f"Payment {p.id}: {format_money(p.amount)} through {p.method}, {p.status}"
          + (f" ({p.reason})" if p.reason else ""))
    print(f"  customer {p.customer_account} {p.customer_name}")
    print(f"  created {p.created_at.isoformat()}, expires {p.expires_at.isoformat() if p.expires_at else '-'}, "
          f"settled {p.settled_at.isoformat() if p.settled_at else '-'}")
    print(f"  reference {p.gateway_reference or '-'}")
    if p.checkout_url:
        print(f"  link {p.checkout_url}")
    if story:
        _print_story(story)
    return 0


def _reconcile(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    asked = [0]

    def progress(done: int, total: int) -> None:
        asked[0] = total

    while True:
        asked[0] = 0
        flagged: list[FlaggedPayment] = []
        changes = ctx.app.payments.reconcile(actor, args.customer, progress=progress, flagged=flagged.append)
        _print_changes(changes, asked[0], args.json)
        # Stdout (and --json) stays the list of changes; a payment that could not be settled
        # did not change (still pending) and is finance's to look at: one line each on stderr.
        for f in flagged:
            sys.stderr.write(f"billing-desk: payment {f.payment_id} ({f.customer_account}, "
                             f"{format_money(f.amount)}, {f.method}) stays pending. {f.reason}\n")
        if not args.every:
            return 0
        sys.stdout.flush()
        time.sleep(args.every)  # pacing belongs to the scheduled loop, never to one explicit run


def _print_changes(changes: list[PaymentChange], asked: int, as_json: bool) -> None:
    if as_json:
        print_json([c.to_json() for c in changes])
        return
    if not changes:
        print(f"No payment changed ({asked} pending asked).")
        return
    print_table([[str(c.payment_id), c.customer_name, format_money(c.amount), c.method,
                  f"{c.previous_status} -> {c.status}", c.reason or ""] for c in changes],
                ["ID", "CUSTOMER", "AMOUNT", "METHOD", "CHANGE", "REASON"], right={0, 2})
    print(f"{len(changes):,} changed of {asked:,} pending asked.")


# -- finance: the story, the exceptions queue, closing one ----------------------------------
def _register_finance(ps: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    exc = ps.add_parser("exceptions", help="pending payments that need a person, oldest first, each with why")
    add_user(exc)
    add_json(exc)
    exc.set_defaults(handler=_exceptions)
    close = ps.add_parser("close", help="close a pending payment as failed, with a reason (never credits)")
    close.add_argument("payment_id", metavar="ID", type=positive_int, help="the payment's id")
    close.add_argument("--reason", required=True, metavar="TEXT", help="why it is closed (kept in the audit log)")
    close.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_user(close)
    add_json(close)
    close.set_defaults(handler=_close)


def _print_story(story: PaymentStory) -> None:
    print(f"  started by {story.started_by or '-'}"
          + (f", flagged for finance {local_text(story.flagged_at)}" if story.flagged_at else ""))
    if story.checks:
        print(f"  checks ({len(story.checks)}):")
        _indented_table([[local_text(c.checked_at, seconds=True), c.trigger, (c.run_id or "-")[:8],
                          c.staff_name or "(scheduled)", c.outcome, c.answer or ""] for c in story.checks],
                        ["CHECKED", "TRIGGER", "RUN", "BY", "OUTCOME", "ANSWER"])
    else:
        print(f"  checks: none recorded ({story.check_count} before checks were recorded)"
              if story.check_count else "  checks: none yet")
    ledger = story.ledger
    print(f"  ledger entry {ledger.entry_id}: {format_money(ledger.amount)} on {local_text(ledger.created_at)}, "
          f"{ledger.description}" if ledger else "  ledger entry: none (nothing was credited)")
    print("  audit:")
    for a in story.audit:
        print(f"    {local_text(a.created_at, seconds=True)}  {a.staff_name or '-'}  {a.action}  {a.details}")


def _indented_table(rows: list[list[str]], headers: list[str], indent: str = "    ") -> None:
    widths = [max(len(x) for x in column) for column in zip(headers, *rows, strict=False)]
    for cells in (headers, *rows):
        print(indent + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip())


def _exceptions(ctx: Context, args: argparse.Namespace) -> int:
    found = ctx.app.payments.exceptions(ctx.actor(args))
    if args.json:
        print_json([e.to_json() for e in found])
    elif not found:
        print("No payment needs a person.")
    else:
        print_table([_exception_cells(e) for e in found],
                    ["ID", "KIND", "CREATED", "ACCOUNT", "AMOUNT", "METHOD", "CHECKS", "WHY"], right={0, 4, 6})
        print(f"{len(found):,} payment(s) need a person: `payments show ID` tells the story, "
              "`payments close ID --reason TEXT` closes one as failed.")
    return 0


def _exception_cells(e: PaymentException) -> list[str]:
    p = e.payment
    return [str(p.id), e.kind.value, local_text(p.created_at), p.customer_account, format_money(p.amount), p.method,
            str(e.checks), e.why]


def _close(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    if not (args.json or args.yes) and not confirm(
            f"Close payment {args.payment_id} as failed? It will never be credited by a reconcile run."):
        raise Cancelled("Nothing was closed.")
    row = ctx.app.payments.close(actor, args.payment_id, args.reason)
    if args.json:
        print_json(row.to_json())
    else:
        print(f"Payment {row.id} ({format_money(row.amount)}, {row.customer_account}) is now failed: {row.reason}")
    return 0
