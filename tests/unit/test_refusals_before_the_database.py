"""Service rules decided before any database work, tested with an in-memory unit of work.

permissions.py promises that services check ``actor.require(...)`` before any work, and a
request that is wrong in itself (a bad email, no reason, an unknown format) needs no database
to be refused. Here the services run on ``FakeUnitOfWorkFactory``: a refusal must leave it
without a single unit of work made (nothing read, locked or committed), and a service that
reached for a session first fails the test with the fake's AssertionError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from billing_desk.domain.enums import Role
from billing_desk.domain.errors import Conflict, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.models import utcnow
from billing_desk.services.audit.service import AuditService
from billing_desk.services.customers.service import CustomerService
from billing_desk.services.ledger.history_export import ExportService
from billing_desk.services.ledger.service import LedgerService
from billing_desk.services.payments.dtos import PaymentFilters
from billing_desk.services.payments.gateways import Gateways
from billing_desk.services.payments.service import PaymentService
from billing_desk.services.plans.service import PlanService
from billing_desk.services.staff.service import StaffService
from billing_desk.services.uow import UnitOfWorkFactory
from billing_desk.services.vouchers.codes import CodeKey
from billing_desk.services.vouchers.dtos import IssueRequest
from billing_desk.services.vouchers.service import VoucherService
from tests.support.fake_uow import FakeUnitOfWorkFactory

ADMIN = Actor(1, "admin", Role.ADMIN)
MANAGER = Actor(2, "manager", Role.MANAGER)
SUPPORT = Actor(3, "support", Role.SUPPORT)
FINANCE = Actor(4, "finance", Role.FINANCE)
USD10 = Money(1000, "USD")


class NoGateways(Gateways):
    """Gateways for calls that must be refused before any gateway is asked."""

    def __init__(self) -> None:
        super().__init__({})

    def get(self, method: Any) -> Any:
        raise AssertionError(f"the service asked for the {method} gateway")


class CountingKey(CodeKey):
    """The voucher code key, counting how often the service read it."""

    def __init__(self) -> None:
        super().__init__(lambda: b"k" * 32)
        self.reads = 0

    def __call__(self) -> bytes:
        self.reads += 1
        return super().__call__()


@dataclass
class Services:
    """The services as bootstrap.py wires them, on the in-memory unit of work."""

    uow: FakeUnitOfWorkFactory
    key: CountingKey
    customers: CustomerService
    ledger: LedgerService
    exports: ExportService
    payments: PaymentService
    vouchers: VoucherService
    plans: PlanService
    staff: StaffService
    audit: AuditService


@pytest.fixture
def svc() -> Services:
    fake, key = FakeUnitOfWorkFactory(), CountingKey()
    uow = cast(UnitOfWorkFactory, fake)  # the fake stands where the real factory goes
    return Services(fake, key, CustomerService(uow), LedgerService(uow), ExportService(uow),
                    PaymentService(uow, NoGateways(), ("USD",)), VoucherService(uow, key), PlanService(uow),
                    StaffService(uow), AuditService(uow))


# What each role tries without the permission it needs.
REFUSED: dict[str, tuple[Actor, Callable[[Services, Path], object]]] = {
    "finance creates a customer": (FINANCE, lambda s, _: s.customers.create(
        FINANCE, name="An", email="an@example.vn", country="VN", billing_type="personal")),
    "finance chooses a currency": (FINANCE, lambda s, _: s.customers.set_currency(FINANCE, 1, "VND")),
    "finance records usage": (FINANCE, lambda s, _: s.ledger.record_usage(FINANCE, 1, service="Storage", amount="10")),
    "support adjusts credit": (SUPPORT, lambda s, _: s.ledger.adjust(SUPPORT, 1, "-100", "Duplicate charge")),
    "support verifies the ledger": (SUPPORT, lambda s, _: s.ledger.verify(SUPPORT)),
    "support exports the voucher list": (SUPPORT, lambda s, tmp: s.vouchers.export_list(
        SUPPORT, None, tmp / "codes.csv")),
    "finance starts a top-up": (FINANCE, lambda s, _: s.payments.create_topup(FINANCE, 1, "25")),
    "support issues a voucher": (SUPPORT, lambda s, _: s.vouchers.issue(SUPPORT, IssueRequest(USD10))),
    "support revokes a voucher": (SUPPORT, lambda s, _: s.vouchers.revoke(SUPPORT, 1, "Leaked")),
    "finance redeems a voucher": (FINANCE, lambda s, _: s.vouchers.redeem(FINANCE, 1, "ABCD-EFGH-JKMN-PQRS-TUVW")),
    "finance changes a plan": (FINANCE, lambda s, _: s.plans.change(FINANCE, 1, "pro")),
    "support adds a plan": (SUPPORT, lambda s, _: s.plans.add_plan(SUPPORT, code="gold", name="Gold",
                                                                   prices={"USD": USD10})),
    "manager lists staff": (MANAGER, lambda s, _: s.staff.list(MANAGER)),
    "manager disables staff": (MANAGER, lambda s, _: s.staff.disable(MANAGER, "support")),
    "support reads the audit log": (SUPPORT, lambda s, _: s.audit.list(SUPPORT)),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_missing_permission_is_refused_before_any_unit_of_work(case: str, svc: Services, tmp_path: Path) -> None:
    actor, attempt = REFUSED[case]
    with pytest.raises(PermissionDenied, match=rf"^{actor.name} \({actor.role}\) may not"):
        attempt(svc, tmp_path)
    assert svc.uow.made == []
    assert list(tmp_path.iterdir()) == []  # the refused export left no file either


@pytest.mark.parametrize(("actor", "changes", "error"), [
    pytest.param(SUPPORT, {}, PermissionDenied, id="support"),
    pytest.param(MANAGER, {"count": 0}, ValidationError, id="no codes"),
    pytest.param(MANAGER, {"valid_until": utcnow() - timedelta(minutes=1)}, ValidationError, id="already over"),
    pytest.param(MANAGER, {"customer_ref": 1, "max_redemptions": 2}, ValidationError, id="one customer, twice"),
])
def test_a_refused_voucher_batch_never_reads_the_code_key(svc: Services, actor: Actor, changes: dict[str, Any],
                                                          error: type[Exception]) -> None:
    with pytest.raises(error):
        svc.vouchers.issue(actor, IssueRequest(USD10, **changes))
    assert svc.key.reads == 0 and svc.uow.made == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_revoking_needs_a_reason_before_the_voucher_is_looked_up(svc: Services, reason: str) -> None:
    with pytest.raises(ValidationError, match="Give a reason") as one:
        svc.vouchers.revoke(MANAGER, 7, reason)
    with pytest.raises(ValidationError, match="Give a reason") as campaign:
        svc.vouchers.revoke_campaign(MANAGER, "Tet 2027", reason)
    assert one.value.field == campaign.value.field == "reason"
    assert svc.uow.made == []


def test_staff_rules_that_need_no_database(svc: Services) -> None:
    with pytest.raises(Conflict, match="cannot disable your own account"):
        svc.staff.disable(ADMIN, "admin")
    with pytest.raises(ValidationError, match="at least") as short:
        svc.staff.set_password(SUPPORT, "support", "short")  # one's own password: no permission needed
    assert short.value.field == "password"
    with pytest.raises(PermissionDenied):
        svc.staff.set_password(SUPPORT, "admin", "a-long-enough-password")  # someone else's
    assert svc.uow.made == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"billing_type": "charity"}, "type"),
    ({"country": "XX"}, "country"),
])
def test_an_invalid_profile_is_refused_before_the_database(svc: Services, changes: dict[str, str],
                                                           field: str) -> None:
    profile = {"name": "Nguyen Van An", "email": "an@example.vn", "country": "VN", "billing_type": "personal",
               **changes}
    with pytest.raises(ValidationError) as refused:
        svc.customers.create(SUPPORT, **profile)
    assert refused.value.field == field and svc.uow.made == []


def test_an_export_to_an_unknown_format_or_folder_reads_nothing(svc: Services, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not offered"):
        svc.exports.export_credit_history(FINANCE, 1, None, tmp_path / "history.pdf")
    with pytest.raises(ValidationError, match="does not exist"):
        svc.exports.export_credit_history(FINANCE, 1, None, tmp_path / "missing" / "history.csv")
    assert svc.uow.made == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("filters", "limit", "match"), [
    (PaymentFilters(), 0, "A page holds"),
    (PaymentFilters(status="paid"), 50, "not a payment status"),
    (PaymentFilters(method="cash"), 50, "not a method"),
])
def test_a_bad_payment_query_is_refused_before_the_database(svc: Services, filters: PaymentFilters, limit: int,
                                                            match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        svc.payments.list_payments(FINANCE, filters, limit=limit)
    assert svc.uow.made == []
