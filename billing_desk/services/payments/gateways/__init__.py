"""Payment gateway adapters (VNPay, Stripe, PayPal) and the local sandbox that speaks all three.

``Gateways`` builds an adapter from its ``[gateways.<name>]`` settings on first use, so a
desk with only one gateway configured starts fine and says what to configure when another
is needed. ``requests`` is imported only below this package.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.errors import one_line
from billing_desk.services.payments.gateways.base import PaymentGateway, reveal, scrub

SECRET_KEYS = {"vnpay": ("hash_secret",), "stripe": ("secret_key",), "paypal": ("client_secret",)}


class Gateways:
    def __init__(self, settings: Mapping[str, Mapping[str, Any]]) -> None:
        self._settings = settings
        self._built: dict[PaymentMethod, PaymentGateway] = {}
        self._lock = threading.Lock()

    def get(self, method: PaymentMethod) -> PaymentGateway:
        with self._lock:
            if method not in self._built:
                self._built[method] = self._build(method)
            return self._built[method]

    def _build(self, method: PaymentMethod) -> PaymentGateway:
        config = self._settings.get(method.value, {})
        if method is PaymentMethod.VNPAY:
            from billing_desk.services.payments.gateways.vnpay import VNPayGateway
            return VNPayGateway(config)
        if method is PaymentMethod.STRIPE:
            from billing_desk.services.payments.gateways.stripe import StripeGateway
            return StripeGateway(config)
        from billing_desk.services.payments.gateways.paypal import PayPalGateway
        return PayPalGateway(config)

    def secrets(self) -> list[str]:
        """Every configured secret, so that callers can keep them out of stored text."""
        return [reveal(self._settings.get(gw, {}).get(key)).strip()
                for gw, keys in SECRET_KEYS.items() for key in keys]

    def safe_text(self, text: str) -> str:
        """``text`` as it may be stored: every configured secret scrubbed, control characters
        escaped (a gateway's words may hold a NUL, which PostgreSQL cannot store), 500
        characters at most."""
        return one_line(scrub(text, self.secrets()))[:500]


__all__ = ["Gateways", "PaymentGateway"]
