"""The customers domain: profiles, billing currency, stored balances as read, and search.

Other domains resolve a customer reference and read a balance through the helpers here.
"""

from __future__ import annotations

from billing_desk.services.customers.dtos import Balance, CustomerDTO, CustomerMatch
from billing_desk.services.customers.profile import Profile
from billing_desk.services.customers.service import (
    CustomerService,
    account_number,
    balance_of,
    customer_dto,
    customer_for_audit,
    insert_customer,
    resolve_customer,
)

__all__ = [
    "Balance",
    "CustomerDTO",
    "CustomerMatch",
    "CustomerService",
    "Profile",
    "account_number",
    "balance_of",
    "customer_dto",
    "customer_for_audit",
    "insert_customer",
    "resolve_customer",
]
