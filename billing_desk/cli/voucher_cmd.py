"""`billing-desk voucher issue|list|revoke|redeem|customer|expire` (also spelt `vouchers`)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

from billing_desk.cli.common import Context, add_json, add_user, confirm, positive_int, print_json, print_table
from billing_desk.domain.dates import day_start_utc, local_text, parse_day, parse_instant
from billing_desk.domain.errors import Cancelled
from billing_desk.domain.money import currency, parse_money
from billing_desk.services.vouchers import IssueRequest, VoidedBatch, VoucherFilter, parse_status


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    voucher = sub.add_parser("voucher", aliases=["vouchers"],
                             help="vouchers: issue, list, revoke, redeem, customer, expire")
    vs = voucher.add_subparsers(dest="voucher_command", metavar="ACTION", required=True)
    _issue_parser(vs)
    _list_parser(vs)
    revoke = vs.add_parser("revoke", help="revoke one voucher, or a campaign's unused codes (managers)")
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("voucher_id", metavar="ID", nargs="?", type=positive_int,
                        help="the voucher's id (voucher list shows it)")
    target.add_argument("--campaign", metavar="NAME", help="every unused code of this campaign")
    revoke.add_argument("--reason", required=True, help="why: kept in the audit log")
    add_user(revoke)
    add_json(revoke)
    revoke.set_defaults(handler=_revoke)
    redeem = vs.add_parser("redeem", help="apply a voucher code to a customer's credit")
    redeem.add_argument("code", metavar="CODE",
                        help="the code as the customer typed it (dashes and case do not matter)")
    redeem.add_argument("--customer", required=True, metavar="ID", help="id or account number")
    add_user(redeem)
    add_json(redeem)
    redeem.set_defaults(handler=_redeem)
    mine = vs.add_parser("customer", help="a customer's Voucher List: redeemed vouchers and credit left")
    mine.add_argument("customer", metavar="ID", help="account number (C00000042) or id")
    add_user(mine)
    add_json(mine)
    mine.set_defaults(handler=_customer)
    expire = vs.add_parser("expire", help="write off expired, unused voucher credit and void abandoned file batches "
                                          "(safe to repeat)")
    add_user(expire)
    add_json(expire)
    expire.set_defaults(handler=_expire)


def _issue_parser(vs: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    issue = vs.add_parser("issue", help="issue one code or a batch (managers); codes are shown once")
    issue.add_argument("--amount", required=True, help="credit per code, e.g. 10 or 500,000")
    issue.add_argument("--currency", required=True, help="currency of the amount (VND, JPY, USD, EUR, ...)")
    issue.add_argument("--count", type=positive_int, default=1, help="how many codes")
    issue.add_argument("--campaign", metavar="NAME", help="campaign to file the codes under (created if new)")
    issue.add_argument("--valid-from", metavar="DATE", help="YYYY-MM-DD (local midnight) or an ISO date-time")
    issue.add_argument("--valid-until", metavar="DATE", help="YYYY-MM-DD (through the end of that day) or a date-time")
    issue.add_argument("--max-redemptions", type=positive_int, default=1,
                       help="how many customers may redeem each code")
    issue.add_argument("--customer", metavar="ID", help="only this customer may redeem it")
    issue.add_argument("--credit-days", type=positive_int, help="days the granted credit stays usable")
    issue.add_argument("--out", metavar="FILE", help="write the codes to a new FILE (.csv or .xlsx) instead of "
                       "printing; they can be redeemed only once the file is complete")
    add_user(issue)
    add_json(issue)
    issue.set_defaults(handler=_issue)


def _list_parser(vs: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ls = vs.add_parser("list", help="every voucher with status, redemptions and credit granted (managers)")
    ls.add_argument("--status", help="active, scheduled, expired, revoked, used_up, pending or void")
    ls.add_argument("--campaign", metavar="NAME", help="only this campaign's codes")
    ls.add_argument("--currency", help="only codes in this currency")
    ls.add_argument("--customer", metavar="ID", type=positive_int, help="vouchers issued for this customer id")
    ls.add_argument("--last4", metavar="XXXX", help="only codes ending in these four characters")
    ls.add_argument("--limit", type=positive_int, default=200, help="at most this many codes, newest first")
    ls.add_argument("--before-id", type=positive_int, metavar="ID", help="next page: ids below this one")
    ls.add_argument("--campaigns", action="store_true", help="one line per campaign instead")
    ls.add_argument("--out", metavar="FILE", help="export every matching voucher to FILE (.csv or .xlsx)")
    add_user(ls)
    add_json(ls)
    ls.set_defaults(handler=_list)


def _until(text: str) -> datetime:
    """A plain date means through the end of that day; a date-time means that instant."""
    if len(text.strip()) == 10:
        return day_start_utc(parse_day(text, "valid_until") + timedelta(days=1))
    return parse_instant(text, "valid_until")


def _issue(ctx: Context, args: argparse.Namespace) -> int:
    code = currency(args.currency).code
    request = IssueRequest(
        amount=parse_money(args.amount, code), count=args.count, campaign=args.campaign,
        valid_from=parse_instant(args.valid_from, "valid_from") if args.valid_from else None,
        valid_until=_until(args.valid_until) if args.valid_until else None,
        max_redemptions=args.max_redemptions, customer_ref=args.customer, credit_days=args.credit_days,
    )
    actor = ctx.actor(args)
    vouchers = ctx.app.vouchers
    preview = vouchers.preview_issue(actor, request)
    summary = (f"{preview.count:,} code(s) of {preview.amount}: face value {preview.face_value}"
               + (f", at most {preview.max_credit} over {preview.max_redemptions} uses each"
                  if preview.max_redemptions > 1 else ""))
    if sys.stdin.isatty() and not confirm(f"Issue {summary}?"):
        raise Cancelled("Nothing was issued.")
    if args.out:
        for batch in vouchers.void_abandoned(actor):
            sys.stderr.write(_voided_text(batch) + "\n")
        # The codes go live only once the file is whole at its name (services/vouchers/batches.py).
        issued = vouchers.issue_to_file(actor, request, args.out)
    else:
        issued = vouchers.issue(actor, request)
    if args.json:
        data = issued.to_json()
        if args.out:
            data["out"] = args.out
        print_json(data)
        return 0
    if args.out:
        print(f"Issued {summary}; the codes are in {args.out} (shown only this once).")
        return 0
    sys.stderr.write(f"Issued {summary}. Keep these codes now: they are never shown again.\n")
    sys.stdout.write("\n".join(issued.codes) + "\n")
    return 0


def _voided_text(batch: VoidedBatch) -> str:
    text = (f"Voided batch {batch.id}: its {batch.codes:,} code(s), issued {local_text(batch.created_at)}, never got "
            "a finished file, so none of them can be redeemed")
    if batch.temp_files_removed:
        text += f"; removed {batch.temp_files_removed} part-written file(s)"
    if batch.file_left:
        text += f"; {batch.out_path} may hold these void codes: delete it"
    return text + "."


def _filter(args: argparse.Namespace) -> VoucherFilter:
    cur = currency(args.currency).code if args.currency else None
    return VoucherFilter(parse_status(args.status), args.campaign, cur, args.customer, args.last4)


def _list(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    vouchers = ctx.app.vouchers
    if args.campaigns:
        camps = vouchers.campaigns(actor)
        if args.json:
            print_json([c.to_json() for c in camps])
        else:
            print_table([[str(c.id), c.name, str(c.codes),
                          ", ".join(f"{k} {v}" for k, v in sorted(c.by_status.items())), str(c.redemptions),
                          ", ".join(str(m) for m in c.credit_granted) or "-"] for c in camps],
                        ["ID", "CAMPAIGN", "CODES", "STATUS", "REDEEMED", "CREDIT GRANTED"], right={0, 2, 4})
        return 0
    flt = _filter(args)
    if args.out:
        rows = vouchers.export_list(actor, flt, args.out)
        if args.json:
            print_json({"out": args.out, "rows": rows})
        else:
            print(f"Exported {rows:,} voucher(s) to {args.out}.")
        return 0
    page = vouchers.list_vouchers(actor, flt, before_id=args.before_id, limit=args.limit)
    if args.json:
        print_json([r.to_json() for r in page])
    elif not page:
        print("No voucher matches.")
    else:
        print_table([[str(r.id), "..." + r.last4, r.campaign or "-", str(r.amount), r.status.value,
                      f"{r.redemptions}/{r.max_redemptions}", str(r.credit_granted),
                      local_text(r.valid_until, empty="-")] for r in page],
                    ["ID", "CODE", "CAMPAIGN", "AMOUNT", "STATUS", "USED", "GRANTED", "VALID UNTIL (UTC)"],
                    right={0, 3, 5, 6})
        if len(page) == args.limit:
            print(f"(more: --before-id {page[-1].id})")
    return 0


def _revoke(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    if args.campaign:
        result = ctx.app.vouchers.revoke_campaign(actor, args.campaign, args.reason)
    else:
        result = ctx.app.vouchers.revoke(actor, args.voucher_id, args.reason)
    if args.json:
        print_json(result.to_json())
    elif result.campaign:
        print(f"Revoked {result.revoked:,} unused code(s) of campaign '{result.campaign}'.")
    else:
        print(f"Revoked voucher {result.voucher_id}.")
    return 0


def _redeem(ctx: Context, args: argparse.Namespace) -> int:
    result = ctx.app.vouchers.redeem(ctx.actor(args), args.customer, args.code)
    if args.json:
        print_json(result.to_json())
        return 0
    expiry = f", usable until {result.credit_expires_at:%Y-%m-%d %H:%M} UTC" if result.credit_expires_at else ""
    print(f"Added {result.amount} voucher credit to {result.account}{expiry}. "
          f"Balance {result.balance_total} (voucher {result.balance_voucher}).")
    return 0


def _customer(ctx: Context, args: argparse.Namespace) -> int:
    rows = ctx.app.vouchers.customer_vouchers(ctx.actor(args), args.customer)
    if args.json:
        print_json([r.to_json() for r in rows])
    elif not rows:
        print("This customer has redeemed no vouchers.")
    else:
        print_table([[local_text(r.redeemed_at), "..." + r.last4, r.campaign or "-", str(r.amount),
                      str(r.remaining), (r.expires_at.strftime("%Y-%m-%d") if r.expires_at else "never")
                      + (" (expired)" if r.expired else "")] for r in rows],
                    ["REDEEMED (UTC)", "CODE", "CAMPAIGN", "AMOUNT", "REMAINING", "EXPIRES"], right={3, 4})
    return 0


def _expire(ctx: Context, args: argparse.Namespace) -> int:
    run = ctx.app.vouchers.expire(ctx.actor(args))
    if args.json:
        print_json(run.to_json())
    elif not run.lots:
        print("No expired voucher credit to write off.")
    else:
        print(f"Wrote off {run.lots} expired voucher lot(s) for {run.customers} customer(s): "
              + ", ".join(str(m) for m in run.written_off) + ".")
    if not args.json:
        for batch in run.voided_batches:
            print(_voided_text(batch))
    return 0

