"""The composition root: settings → database → services, for the GUI and the CLI alike.

Nothing connects or reads configuration at import time; ``build_app`` does it on request.
The services get typed values from the checked ``Settings``, never the settings themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from billing_desk.config import Settings, load_settings
from billing_desk.database import Database, check_schema, open_database
from billing_desk.services.audit import AuditService
from billing_desk.services.customers import CustomerService, customer_for_audit
from billing_desk.services.ledger import LedgerService
from billing_desk.services.payments import (
    ExportService,
    PaymentService,
    build_payment_service,
    payment_reference_source,
)
from billing_desk.services.plans import PlanService
from billing_desk.services.staff import StaffService
from billing_desk.services.uow import UnitOfWorkFactory
from billing_desk.services.vouchers import CodeKey, VoucherService, search_by_last4


@dataclass
class App:
    settings: Settings
    database: Database
    uow: UnitOfWorkFactory
    staff: StaffService
    customers: CustomerService
    audit: AuditService
    # The services of each capability, built in _wire_capabilities.
    ledger: LedgerService = field(init=False)
    exports: ExportService = field(init=False)
    vouchers: VoucherService = field(init=False)
    # The key the vouchers service checks codes with, for the demo seed to hash its codes with.
    voucher_key: CodeKey = field(init=False)
    plans: PlanService = field(init=False)
    payments: PaymentService = field(init=False)

    def close(self) -> None:
        self.database.dispose()


def build_app(settings: Settings | None = None, *, check: bool = True) -> App:
    settings = settings or load_settings()
    database = open_database(settings.database_url, settings.busy_wait)
    if check:
        try:
            check_schema(database.engine)
        except Exception:
            database.dispose()
            raise
    uow = UnitOfWorkFactory(database)
    app = App(
        settings=settings, database=database, uow=uow, staff=StaffService(uow),
        customers=CustomerService(uow, settings.paypal_currencies),
        audit=AuditService(uow, customer_lookup=customer_for_audit),
    )
    _wire_capabilities(app)
    return app


def _wire_capabilities(app: App) -> None:
    """Build the services of each capability. Each line is one capability's entry point."""
    app.ledger = LedgerService(app.uow)
    app.exports = ExportService(app.uow)
    app.voucher_key = CodeKey.from_source(app.settings.vouchers.key, app.settings.vouchers.key_file)
    app.vouchers = VoucherService(app.uow, app.voucher_key)
    app.customers.add_search_source(search_by_last4)
    app.plans = PlanService(app.uow)
    topup = app.settings.topup
    app.payments = build_payment_service(app.uow, app.settings.gateways, app.settings.paypal_currencies,
                                         topup.minimums, topup.expiry_margin)
    app.customers.add_search_source(payment_reference_source)
