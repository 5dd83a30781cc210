"""Payments set-up: gateway settings pointed at the sandbox (fast timeouts), driving the sandbox
(pay, faults) and config files for the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import requests

from billing_desk.bootstrap import App, build_app
from billing_desk.sandbox import SandboxHandle, demo_gateway_settings

# Short timeouts and no waiting between retries keep misbehaviour tests quick.
FAST = {"connect_timeout": 2.0, "read_timeout": 1.0, "max_retries": 1, "retry_base_delay": 0.01}

AMOUNTS = {"VND": "500000", "JPY": "3000", "USD": "25.00"}
METHODS = {"VND": "vnpay", "JPY": "stripe", "USD": "paypal"}


def gateway_settings(url: str, **overrides: Any) -> dict[str, dict[str, Any]]:
    settings = demo_gateway_settings(url)
    for section in settings.values():
        section.update(FAST)
        section.update(overrides)
    return settings


def with_gateways(app: App, gateways: dict[str, dict[str, Any]]) -> App:
    return build_app(replace(app.settings, gateways=gateways))


def control(sandbox: SandboxHandle, path: str, body: Any = None, method: str = "POST") -> Any:
    response = requests.request(method, f"{sandbox.url}{path}", json=body, timeout=10)
    return response.json()


def pay(sandbox: SandboxHandle, checkout_url: str | None, action: str = "pay") -> None:
    assert checkout_url
    result = control(sandbox, "/sandbox/complete", {"checkout_url": checkout_url, "action": action})
    assert result["ok"], result


def fault(sandbox: SandboxHandle, kind: str, path: str, times: int = 10, **extra: Any) -> None:
    assert control(sandbox, "/sandbox/faults", {"kind": kind, "path": path, "times": times, **extra})["ok"]


def clear_faults(sandbox: SandboxHandle) -> None:
    control(sandbox, "/sandbox/faults", method="DELETE")


def with_fast_sections(text: str, **overrides: Any) -> str:
    """``text`` (TOML) with FAST and ``overrides`` added to each gateway section."""
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in {**FAST, **overrides}.items())
    for section in ("vnpay", "stripe", "paypal"):
        text = text.replace(f"[gateways.{section}]\n", f"[gateways.{section}]\n{extra}")
    return text


def write_config(path: Any, url: str, **overrides: Any) -> Any:
    """A TOML config file whose gateway sections point at the sandbox (fast timeouts)."""
    from billing_desk.sandbox import demo_config_toml

    path.write_text(with_fast_sections(demo_config_toml(url), **overrides), encoding="utf-8")
    return path
