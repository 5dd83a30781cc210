"""A local gateway sandbox speaking VNPay, Stripe and PayPal, for tests, demos and training.

``start_sandbox()`` runs it in a background thread and returns a handle with its URL;
``demo_gateway_settings(url)`` gives the ``Settings.gateways`` mapping that points all three
adapters at it. Standard library only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from billing_desk.domain.secret import Secret
from billing_desk.sandbox.server import SandboxServer
from billing_desk.sandbox.state import SandboxCredentials, SandboxState


@dataclass
class SandboxHandle:
    url: str
    state: SandboxState
    _server: SandboxServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_sandbox(host: str = "127.0.0.1", port: int = 0,
                  credentials: SandboxCredentials | None = None) -> SandboxHandle:
    """Serve on ``host:port`` (0 picks a free port) until ``handle.stop()``."""
    state = SandboxState(credentials or SandboxCredentials())
    server = SandboxServer((host, port), state)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    url = f"http://{bound_host if ':' not in bound_host else f'[{bound_host}]'}:{bound_port}"
    state.base_url = url
    # A short poll: stop() waits for the loop to notice, and tests stop one sandbox each.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="gateway-sandbox",
                              daemon=True)
    thread.start()
    return SandboxHandle(url, state, server, thread)


def demo_gateway_settings(url: str, credentials: SandboxCredentials | None = None) -> dict[str, dict[str, Any]]:
    """``Settings.gateways`` pointing VNPay, Stripe and PayPal at the sandbox at ``url``."""
    c = credentials or SandboxCredentials()
    back = f"{url}/return"
    return {
        "vnpay": {"tmn_code": c.vnpay_tmn_code, "hash_secret": Secret(c.vnpay_hash_secret),
                  "payment_url": f"{url}/vnpay/paymentv2/vpcpay.html",
                  "api_url": f"{url}/vnpay/merchant_webapi/api/transaction", "return_url": back},
        "stripe": {"secret_key": Secret(c.stripe_secret_key), "api_base": f"{url}/stripe",
                   "success_url": f"{back}?paid=1", "cancel_url": f"{back}?cancelled=1"},
        "paypal": {"client_id": c.paypal_client_id, "client_secret": Secret(c.paypal_client_secret),
                   "api_base": f"{url}/paypal", "return_url": back, "cancel_url": f"{back}?cancelled=1",
                   "currencies": ["USD", "EUR"]},
    }


def demo_config_toml(url: str, credentials: SandboxCredentials | None = None) -> str:
    """The same settings as config-file text, for `billing-desk sandbox-gateway` to print."""
    lines: list[str] = []
    for name, section in demo_gateway_settings(url, credentials).items():
        lines.append(f"[gateways.{name}]")
        for key, value in section.items():
            text = value.reveal() if isinstance(value, Secret) else value
            lines.append(f"{key} = {_toml(text)}")
        lines.append("")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = ["SandboxCredentials", "SandboxHandle", "demo_config_toml", "demo_gateway_settings", "start_sandbox"]
