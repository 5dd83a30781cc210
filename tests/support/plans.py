"""A plans catalog for tests: free, starter, pro and enterprise, priced in USD and VND."""

from __future__ import annotations

from billing_desk.bootstrap import App
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor

PRICES = {"free": (0, 0), "starter": (900, 250_000), "pro": (2900, 750_000), "enterprise": (9900, 2_500_000)}


def seed_plans(app: App, actor: Actor) -> None:
    for rank, (code, (cents, dong)) in enumerate(PRICES.items()):
        app.plans.add_plan(actor, code=code, name=code.title(), rank=rank, features=[f"{code} feature"],
                           prices={"USD": Money(cents, "USD"), "VND": Money(dong, "VND")})
