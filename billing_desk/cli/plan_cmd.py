"""`billing-desk plan list|show|change|add|edit|retire`."""

from __future__ import annotations

import argparse

from billing_desk.cli.common import Context, add_json, add_user, confirm, print_json, print_table
from billing_desk.domain.errors import Cancelled, ValidationError
from billing_desk.domain.money import Money, currency, parse_money
from billing_desk.services.plans import PlanRow


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    plan = sub.add_parser("plan", help="subscription plans and customers' plans")
    ps = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True)
    ls = ps.add_parser("list", help="the plans catalog")
    ls.add_argument("--currency", help="show prices in this currency only")
    ls.add_argument("--all", action="store_true", help="include retired plans")
    add_user(ls)
    add_json(ls)
    ls.set_defaults(handler=_list)
    show = ps.add_parser("show", help="a customer's plan, period and any scheduled downgrade")
    show.add_argument("customer", metavar="CUSTOMER", help="account number (C00000042) or id")
    add_user(show)
    add_json(show)
    show.set_defaults(handler=_show)
    change = ps.add_parser("change", help="upgrade now (prorated charge) or downgrade at the next period")
    change.add_argument("customer", metavar="CUSTOMER", help="account number (C00000042) or id")
    change.add_argument("plan", metavar="PLAN", help="plan code, e.g. pro")
    change.add_argument("--preview", action="store_true", help="show the charge and balance after; change nothing")
    add_user(change)
    add_json(change)
    change.set_defaults(handler=_change)
    for name, helptext, handler in (("add", "add a plan (managers)", _add), ("edit", "edit a plan (managers)", _edit)):
        p = ps.add_parser(name, help=helptext)
        p.add_argument("code", metavar="CODE", help="the plan's short code (pro, team, ...)")
        p.add_argument("--name", required=name == "add", help="the plan's name as customers see it")
        p.add_argument("--price", action="append", metavar="CUR:AMOUNT", help="monthly price, e.g. USD:29 (repeat)")
        p.add_argument("--feature", action="append", metavar="TEXT", help="what the plan includes (repeat)")
        p.add_argument("--rank", type=int, help="orders plans from cheapest (0) to richest")
        add_user(p)
        add_json(p)
        p.set_defaults(handler=handler)
    retire = ps.add_parser("retire", help="retire a plan: it keeps its subscribers, takes no new ones")
    retire.add_argument("code", metavar="CODE", help="the plan's short code")
    add_user(retire)
    add_json(retire)
    retire.set_defaults(handler=_retire)


def _prices(values: list[str] | None) -> dict[str, Money]:
    prices: dict[str, Money] = {}
    for value in values or []:
        cur, sep, amount = value.partition(":")
        if not sep:
            raise ValidationError(f"'{value}' is not CUR:AMOUNT; write e.g. USD:29 or VND:500000.", field="price")
        code = currency(cur.strip()).code
        prices[code] = parse_money(amount, code)
    return prices


PLAN_HEADERS = ["CODE", "NAME", "MONTHLY", "INCLUDES", ""]


def _plan_line(p: PlanRow) -> list[str]:
    price = str(p.price) if p.price else ", ".join(str(m) for _, m in sorted(p.prices.items())) or "-"
    return [p.code, p.name, price, "; ".join(p.features), "retired" if p.retired else ""]


def _print_plan(p: PlanRow, as_json: bool) -> None:
    if as_json:
        print_json(p.to_json())
    else:
        print_table([_plan_line(p)], PLAN_HEADERS)


def _list(ctx: Context, args: argparse.Namespace) -> int:
    plans = ctx.app.plans.catalog(ctx.actor(args), args.currency, include_retired=args.all)
    if args.json:
        print_json([p.to_json() for p in plans])
    elif not plans:
        print("No plans yet: a manager adds them with `billing-desk plan add`.")
    else:
        print_table([_plan_line(p) for p in plans], PLAN_HEADERS)
    return 0


def _show(ctx: Context, args: argparse.Namespace) -> int:
    sub = ctx.app.plans.current(ctx.actor(args), args.customer)
    if args.json:
        print_json(sub.to_json())
        return 0
    name = sub.plan.name if sub.plan else "(no plan)"
    period = (f", period {sub.period_start:%Y-%m-%d} to {sub.period_end:%Y-%m-%d} (UTC)"
              if sub.period_start and sub.period_end else ", no billing period yet")
    print(f"Plan {name}{period}")
    if sub.scheduled_plan:
        print(f"  changes to {sub.scheduled_plan.name} at the end of this period")
    return 0


def _change(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor(args)
    plans = ctx.app.plans
    preview = plans.preview_change(actor, args.customer, args.plan)
    if args.preview:
        if args.json:
            print_json(preview.to_json())
            return 0
        print(f"{preview.kind.replace('_', ' ')}: {preview.from_plan.name if preview.from_plan else '-'} -> "
              f"{preview.to_plan.name}, effective {preview.effective_at:%Y-%m-%d %H:%M} UTC")
        print(f"  charge now {preview.charge}; balance {preview.balance} -> {preview.balance_after}")
        if not preview.affordable:
            print(f"  the balance is short by {preview.shortfall}: top up first")
        return 0
    if preview.charge.minor and not confirm(f"Charge {preview.charge} now for {preview.to_plan.name}?"):
        raise Cancelled("The plan was not changed.")
    result = plans.change(actor, args.customer, args.plan, max_charge=preview.charge)
    if args.json:
        print_json(result.to_json())
    elif result.kind == "downgrade":
        print(f"{result.from_plan} -> {result.to_plan} from {result.effective_at:%Y-%m-%d %H:%M} UTC (next period).")
    elif result.kind == "cancel_downgrade":
        print(f"The scheduled downgrade was cancelled; the customer stays on {result.to_plan}.")
    else:
        print(f"Upgraded {result.from_plan or '-'} -> {result.to_plan}: charged {result.charge}, "
              f"balance now {result.balance_after}.")
    return 0


def _add(ctx: Context, args: argparse.Namespace) -> int:
    plan = ctx.app.plans.add_plan(ctx.actor(args), code=args.code, name=args.name, prices=_prices(args.price),
                                  features=args.feature or [], rank=args.rank or 0)
    _print_plan(plan, args.json)
    return 0


def _edit(ctx: Context, args: argparse.Namespace) -> int:
    plan = ctx.app.plans.edit_plan(ctx.actor(args), args.code, name=args.name, prices=_prices(args.price) or None,
                                   features=args.feature, rank=args.rank)
    _print_plan(plan, args.json)
    return 0


def _retire(ctx: Context, args: argparse.Namespace) -> int:
    plan = ctx.app.plans.retire_plan(ctx.actor(args), args.code)
    _print_plan(plan, args.json)
    return 0
