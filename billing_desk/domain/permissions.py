"""Who may do what: the one table of permissions per role, and the acting staff member.

Services call ``actor.require(Permission.X)`` before any work; hiding a button in the GUI
is a courtesy on top of this, never the check itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billing_desk.domain.enums import Role
from billing_desk.domain.errors import PermissionDenied


class Permission(StrEnum):
    CUSTOMER_READ = "read customers"
    CUSTOMER_WRITE = "create and edit customers"
    HISTORY_READ = "read credit history"
    EXPORT = "make bulk exports (voucher lists)"
    HISTORY_EXPORT = "export a customer's credit history"
    LEDGER_VERIFY = "verify the ledger"
    USAGE_RECORD = "record usage"
    CREDIT_ADJUST = "adjust credit"
    SERVICE_CATALOG = "manage the service catalog"
    TOPUP_CREATE = "start top-ups"
    PAYMENT_READ = "read payments"
    PAYMENT_REFRESH = "refresh a customer's payments"
    PAYMENT_RECONCILE = "reconcile all payments"
    PAYMENT_REVIEW = "review payments across customers"
    PAYMENT_CLOSE = "close a payment in the exceptions queue"
    CREDIT_REPORT = "read the month-end credit report"
    VOUCHER_REDEEM = "redeem vouchers"
    VOUCHER_ISSUE = "issue and revoke vouchers"
    VOUCHER_LIST = "list all vouchers"
    PLAN_CHANGE = "change a customer's plan"
    PLAN_MANAGE = "manage the plans catalog"
    STAFF_MANAGE = "manage staff"
    DEMO_SEED = "seed demo data"
    AUDIT_READ = "read the audit log"


# Support exports one customer's credit history because customers ask support for it; the
# bulk exports (voucher lists, payments) stay with finance and managers.
_SUPPORT = {
    Permission.CUSTOMER_READ,
    Permission.CUSTOMER_WRITE,
    Permission.HISTORY_READ,
    Permission.HISTORY_EXPORT,
    Permission.TOPUP_CREATE,
    Permission.PAYMENT_READ,
    Permission.PAYMENT_REFRESH,
    Permission.VOUCHER_REDEEM,
    Permission.PLAN_CHANGE,
}
_FINANCE = {
    Permission.CUSTOMER_READ,
    Permission.HISTORY_READ,
    Permission.HISTORY_EXPORT,
    Permission.EXPORT,
    Permission.LEDGER_VERIFY,
    Permission.PAYMENT_READ,
    Permission.PAYMENT_REFRESH,
    Permission.PAYMENT_RECONCILE,
    Permission.PAYMENT_REVIEW,
    Permission.PAYMENT_CLOSE,
    Permission.CREDIT_REPORT,
}
_MANAGER = (
    _SUPPORT
    | _FINANCE
    | {
        Permission.USAGE_RECORD,
        Permission.CREDIT_ADJUST,
        Permission.SERVICE_CATALOG,
        Permission.VOUCHER_ISSUE,
        Permission.VOUCHER_LIST,
        Permission.PLAN_MANAGE,
        Permission.AUDIT_READ,
    }
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SUPPORT: frozenset(_SUPPORT),
    Role.FINANCE: frozenset(_FINANCE),
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated staff member on whose behalf a service call runs."""

    staff_id: int | None
    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"{self.name} ({self.role}) may not {permission.value}; ask a manager or an admin.")


# The operator running `db` or `demo seed` on the machine itself, before any staff exists.
SYSTEM_ACTOR = Actor(staff_id=None, name="system", role=Role.ADMIN)
