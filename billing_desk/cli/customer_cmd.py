"""`billing-desk customer find|show|create|update|set-currency`."""

from __future__ import annotations

import argparse

from billing_desk.cli.common import Context, add_json, add_user, positive_int, print_json, print_table
from billing_desk.domain.ids import MAX_ROW_ID
from billing_desk.services.customers import CustomerDTO


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    customer = sub.add_parser("customer", help="customers")
    cs = customer.add_subparsers(dest="customer_command", metavar="ACTION", required=True)
    find = cs.add_parser("find", help="search by account, name, email, company or tax code")
    find.add_argument("query", help="part of an account number, name, email, phone or tax code")
    find.add_argument("--limit", type=positive_int, default=20,
                      help="at most this many customers (the output says when more matched)")
    add_user(find)
    add_json(find)
    find.set_defaults(handler=_find)
    show = cs.add_parser("show", help="one customer with balance")
    show.add_argument("customer", metavar="ID", help="id or account number")
    add_user(show)
    add_json(show)
    show.set_defaults(handler=_show)
    create = cs.add_parser("create", help="create a customer")
    _profile_options(create, required=True)
    add_user(create)
    add_json(create)
    create.set_defaults(handler=_create)
    update = cs.add_parser("update", help="edit the billing profile")
    update.add_argument("customer", metavar="ID", help="account number (C00000042) or id")
    _profile_options(update, required=False)
    add_user(update)
    add_json(update)
    update.set_defaults(handler=_update)
    cur = cs.add_parser("set-currency", help="choose the billing currency (once, for ever)")
    cur.add_argument("customer", metavar="ID", help="account number (C00000042) or id")
    cur.add_argument("currency", metavar="CUR", help="ISO code of the billing currency (VND, JPY, USD, EUR, ...)")
    add_user(cur)
    add_json(cur)
    cur.set_defaults(handler=_set_currency)
    disp = cs.add_parser("set-display-currency", help="the currency amounts are displayed in for this customer")
    disp.add_argument("customer", metavar="ID", help="account number (C00000042) or id")
    disp.add_argument("currency", metavar="CUR", help="a currency code, or 'none' to follow the billing currency")
    add_user(disp)
    add_json(disp)
    disp.set_defaults(handler=_set_display_currency)


def _profile_options(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--name", required=required, help="person's or company's name, as on invoices")
    p.add_argument("--email", required=required, help="billing email address")
    p.add_argument("--country", required=required, help="ISO 3166 code, e.g. VN, JP, US")
    p.add_argument("--type", dest="billing_type", required=required, help="personal or company")
    p.add_argument("--address", help="billing address")
    p.add_argument("--tax-code", dest="tax_code", help="tax code (required for a company)")


def _print_customer(c: CustomerDTO, as_json: bool) -> None:
    if as_json:
        print_json(c.to_json())
        return
    print(f"{c.account}  {c.name}  <{c.email}>")
    print(
        f"  id {c.id}, {c.billing_type}, {c.country}, currency {c.currency or '(not chosen)'}"
        + (f", tax code {c.tax_code}" if c.tax_code else "")
    )
    if c.address:
        print(f"  {c.address}")
    if c.balance:
        print(f"  balance {c.balance.total} (top-up {c.balance.topup}, voucher {c.balance.voucher})")


def _find(ctx: Context, args: argparse.Namespace) -> int:
    found = ctx.app.customers.find(ctx.actor(args), args.query, min(args.limit + 1, MAX_ROW_ID))
    hits, cut = found[:args.limit], len(found) > args.limit
    if args.json:
        print_json([h.to_json() for h in hits])
    elif not hits:
        print(f"No customer matches '{args.query}'.")
    else:
        print_table(
            [[str(h.id), h.account, h.name, h.email, h.country, h.currency or "-"] for h in hits],
            ["ID", "ACCOUNT", "NAME", "EMAIL", "CC", "CUR"],
            right={0},
        )
        if cut:
            print(f"The first {args.limit:,} matches; there are more: narrow the search or raise --limit.")
    return 0


def _show(ctx: Context, args: argparse.Namespace) -> int:
    _print_customer(ctx.app.customers.get(ctx.actor(args), args.customer), args.json)
    return 0


_PROFILE_OPTIONS = ("name", "email", "country", "billing_type", "address", "tax_code")


def _profile(args: argparse.Namespace) -> dict[str, str | None]:
    return {key: getattr(args, key) for key in _PROFILE_OPTIONS}


def _create(ctx: Context, args: argparse.Namespace) -> int:
    _print_customer(ctx.app.customers.create(ctx.actor(args), **_profile(args)), args.json)  # type: ignore[arg-type]
    return 0


def _update(ctx: Context, args: argparse.Namespace) -> int:
    _print_customer(ctx.app.customers.update(ctx.actor(args), args.customer, **_profile(args)), args.json)
    return 0


def _set_currency(ctx: Context, args: argparse.Namespace) -> int:
    updated = ctx.app.customers.set_currency(ctx.actor(args), args.customer, args.currency)
    if args.json:
        print_json(updated.to_json())
    else:
        print(f"{updated.account} now bills in {updated.currency}; this cannot be changed.")
    return 0


def _set_display_currency(ctx: Context, args: argparse.Namespace) -> int:
    code = None if args.currency.strip().lower() == "none" else args.currency
    updated = ctx.app.customers.set_display_currency(ctx.actor(args), args.customer, code)
    if args.json:
        print_json(updated.to_json())
    else:
        shown = updated.display_currency or updated.currency or "its billing currency"
        print(f"{updated.account} is displayed in {shown}.")
    return 0
