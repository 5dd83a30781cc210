"""The change bus: after a committed write, a typed notice of what changed.

Each tab listens and decides for itself whether it must reload (after Anki's
``operation_did_execute``); tabs never call each other. A notice names the customers
touched and which areas changed, so the Plans tab ignores a voucher redemption of another
customer, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal


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


class ChangeBus(QObject):
    """``changed(changes, initiator)`` is emitted in the GUI thread after each committed write."""

    changed = Signal(object, object)

    def publish(self, changes: Changes, initiator: object = None) -> None:
        self.changed.emit(changes, initiator)
