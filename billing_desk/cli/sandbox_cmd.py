"""`billing-desk sandbox-gateway`: run the local VNPay/Stripe/PayPal sandbox until interrupted."""

from __future__ import annotations

import argparse
import threading

from billing_desk.cli.common import Context

DEFAULT_PORT = 8765  # stable, so the configuration printed once keeps working


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sandbox = sub.add_parser("sandbox-gateway", help="run a local payment gateway sandbox (no real money)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument("--port", type=int, default=DEFAULT_PORT,
                         help="port to listen on; 0 picks a free one")
    sandbox.set_defaults(handler=_run, check_schema=False)


def _run(ctx: Context, args: argparse.Namespace) -> int:
    from billing_desk.config import config_file_path
    from billing_desk.sandbox import demo_config_toml, start_sandbox

    handle = start_sandbox(args.host, args.port)
    print(f"Gateway sandbox listening on {handle.url} (Ctrl-C to stop).")
    print(f"To top up through it, put this in {config_file_path()} (the config file this desk reads; "
          "BILLING_DESK_CONFIG names another) and start the desk again:\n")
    print(demo_config_toml(handle.url), flush=True)
    try:
        threading.Event().wait()
    finally:
        handle.stop()
    return 0
