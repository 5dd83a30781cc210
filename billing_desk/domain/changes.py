"""What changed after a committed write: the notice the change bus carries.

Plain Python, so that services (and, later, a database notification listener) can build
notices without Qt; the views' ``ChangeBus`` carries them to the tabs.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Changes:
    customer_ids: frozenset[int] = field(default_factory=frozenset)
    profile: bool = False
    ledger: bool = False
    payments: bool = False
    vouchers: bool = False
    plans: bool = False

    @classmethod
    def for_customer(cls, customer_id: int, **areas: bool) -> Changes:
        return cls(customer_ids=frozenset({customer_id}), **areas)

    def touches(self, customer_id: int | None) -> bool:
        """True when the notice concerns this customer (an empty set means "any customer")."""
        return customer_id is not None and (not self.customer_ids or customer_id in self.customer_ids)

    @property
    def balance(self) -> bool:
        """Every area that posts to the ledger can move the balance."""
        return self.ledger or self.payments or self.vouchers or self.plans
