"""`billing-desk demo seed`: an operator command that fills a demo database with demo data.

Only a database created with `billing-desk db upgrade --demo` takes it; once staff exist
there, only an admin (--user) may add more.
"""

from __future__ import annotations

import argparse
import time

from billing_desk.cli.common import Context, add_json, add_user, print_json
from billing_desk.services.demo import DEMO_PASSWORD, DemoService, SeedOptions


def _count(text: str) -> int:
    value = int(text) if text.isdigit() else -1
    if value < 0 or value > 5_000_000:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of customers from 0 to 5000000")
    return value


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser("demo", help="demo data")
    ds = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    seed = ds.add_parser("seed", help="add deterministic demo staff, customers and history to a demo database "
                                      "(made by `db upgrade --demo`)")
    seed.add_argument("--customers", type=_count, default=200, help="how many customers to add")
    seed.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same data")
    seed.add_argument("--whale", action="store_true", help="also one customer with 1,000,000 history rows")
    add_user(seed)
    add_json(seed)
    seed.set_defaults(handler=_seed)


def _seed(ctx: Context, args: argparse.Namespace) -> int:
    demo = DemoService(ctx.app.uow)
    demo.check_database()  # a working database is refused before anyone is asked for a password
    actor = ctx.actor(args) if (args.user or ctx.app.staff.has_staff()) else None
    started = time.perf_counter()
    report = demo.seed(SeedOptions(customers=args.customers, seed=args.seed, whale=args.whale,
                                   voucher_key=ctx.app.voucher_key), actor)
    seconds = round(time.perf_counter() - started, 2)
    if args.json:
        print_json(
            {
                "customers": report.customers,
                "staff_created": report.staff_created,
                "details": list(report.details),
                "seconds": seconds,
            }
        )
    else:
        print(f"Seeded {report.customers:,} customers in {seconds} s.")
        for line in report.details:
            print(f"  {line}")
        if report.staff_created:
            print(f"  demo staff admin, manager, support, finance; password '{DEMO_PASSWORD}'")
    return 0
