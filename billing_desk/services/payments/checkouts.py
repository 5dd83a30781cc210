"""Keeping a gateway's checkout (its reference and payment link) on the pending payment.

Shared by starting a top-up and by reconciliation, which starts the checkout of a payment
whose first gateway call got no answer. A conditional UPDATE keeps the first reference only,
so two desks that both started a checkout never overwrite each other's.
"""

from __future__ import annotations

import json

from sqlalchemy import update

from billing_desk.domain.permissions import Actor
from billing_desk.models import Payment
from billing_desk.services import audit
from billing_desk.services.crashpoints import crash_point
from billing_desk.services.payments.gateways.base import Checkout
from billing_desk.services.uow import UnitOfWorkFactory


def store_checkout(uow_factory: UnitOfWorkFactory, actor: Actor, payment_id: int, checkout: Checkout) -> bool:
    """Keep the gateway's reference and link; False if another desk stored them first."""
    crash_point("payment.after_checkout_reply")  # the gateway made a checkout we have not kept
    with uow_factory.write() as uow:
        result = uow.session.execute(
            update(Payment).where(Payment.id == payment_id, Payment.gateway_reference.is_(None))
            .values(gateway_reference=checkout.reference, checkout_url=checkout.url,
                    gateway_data=json.dumps(checkout.data, sort_keys=True))
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        audit.record(uow.session, actor, "payment.checkout", "payment", payment_id,
                     {"gateway_reference": checkout.reference})
        uow.commit()
        return True
