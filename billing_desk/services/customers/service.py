"""Customers: create, read, find, edit the billing profile, and choose the currency once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_desk.domain.countries import DEFAULT_PAYPAL_CURRENCIES, allowed_currencies
from billing_desk.domain.errors import Conflict, NotFound, ValidationError
from billing_desk.domain.money import CURRENCIES, Money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.text import clean_token, shown
from billing_desk.models import Customer, CustomerBalance, utcnow
from billing_desk.services import audit
from billing_desk.services.customers.dtos import Balance, CustomerDTO, CustomerMatch
from billing_desk.services.customers.profile import Profile, display_currency_choices, validate_profile
from billing_desk.services.customers.search import search_customers
from billing_desk.services.uow import UnitOfWorkFactory

# Extra search sources (payment references, voucher last four) register here, so the
# customer search needs no import of the payment or voucher modules.
ExtraSearch = Callable[[Session, str], Iterable[tuple[int, str]]]

_PROFILE_FIELDS = ("billing_type", "name", "email", "address", "country", "tax_code")
# An id has at most 18 digits: a longer one is no customer, and SQLite cannot even bind it.
_MAX_ID_DIGITS = 18


def account_number(customer_id: int) -> str:
    return f"C{customer_id:08d}"


def resolve_customer(session: Session, ref: str | int) -> Customer:
    """A customer by id (ASCII digits) or account number (e.g. C00000042)."""
    text = clean_token(str(ref), "customer", "customer reference")
    customer: Customer | None = None
    if text.isascii() and text.isdigit():
        if len(text) <= _MAX_ID_DIGITS:
            customer = session.get(Customer, int(text))
    elif text:
        customer = session.scalar(select(Customer).where(Customer.account == text.upper()))
    if customer is None:
        raise NotFound(f"No customer with id or account '{shown(ref)}'.")
    return customer


def balance_of(session: Session, customer: Customer) -> Balance | None:
    if customer.currency is None:
        return None
    row = session.get(CustomerBalance, customer.id)
    cur = customer.currency
    if row is None:
        zero = Money(0, cur)
        return Balance(zero, zero, zero)
    return Balance(Money(row.total, cur), Money(row.topup, cur), Money(row.voucher, cur))


def customer_dto(session: Session, customer: Customer) -> CustomerDTO:
    return CustomerDTO(
        id=customer.id,
        account=customer.account,
        billing_type=customer.billing_type,
        name=customer.name,
        email=customer.email,
        address=customer.address,
        country=customer.country,
        tax_code=customer.tax_code,
        currency=customer.currency,
        display_currency=customer.display_currency,
        created_at=customer.created_at,
        balance=balance_of(session, customer),
    )


def _profile_of(customer: Customer) -> dict[str, Any]:
    return {f: getattr(customer, f) for f in _PROFILE_FIELDS}


def insert_customer(session: Session, profile: Profile, currency: str | None = None) -> Customer:
    """Insert a customer and give it its account number, derived from its id."""
    now = utcnow()
    customer = Customer(
        account=f"pending-{uuid4().hex[:24]}",
        billing_type=profile.billing_type,
        name=profile.name,
        email=profile.email,
        address=profile.address,
        country=profile.country,
        tax_code=profile.tax_code,
        currency=None,
        search_text="",
        created_at=now,
        updated_at=now,
    )
    session.add(customer)
    session.flush()
    customer.account = account_number(customer.id)
    customer.search_text = profile.search_text(customer.account)
    if currency:
        lock_in_currency(session, customer, currency)
    session.flush()
    return customer


def lock_in_currency(session: Session, customer: Customer, code: str) -> None:
    customer.currency = code
    session.add(
        CustomerBalance(customer_id=customer.id, currency=code, total=0, topup=0, voucher=0, updated_at=utcnow())
    )


class CustomerService:
    def __init__(self, uow: UnitOfWorkFactory, paypal_currencies: Sequence[str] = DEFAULT_PAYPAL_CURRENCIES) -> None:
        self._uow = uow
        self._paypal_currencies = tuple(paypal_currencies)
        self._extra_search: list[ExtraSearch] = []

    def add_search_source(self, source: ExtraSearch) -> None:
        self._extra_search.append(source)

    def currencies_for(self, country: str) -> tuple[str, ...]:
        return allowed_currencies(country, self._paypal_currencies)

    def create(
        self,
        actor: Actor,
        *,
        name: str,
        email: str,
        country: str,
        billing_type: str,
        address: str | None = None,
        tax_code: str | None = None,
    ) -> CustomerDTO:
        actor.require(Permission.CUSTOMER_WRITE)
        profile = validate_profile(
            billing_type=billing_type, name=name, email=email, address=address, country=country, tax_code=tax_code
        )
        with self._uow.write() as uow:
            customer = insert_customer(uow.session, profile)
            audit.record(
                uow.session,
                actor,
                "customer.create",
                "customer",
                customer.id,
                {"after": _profile_of(customer), "account": customer.account},
            )
            uow.commit()
            return customer_dto(uow.session, customer)

    def get(self, actor: Actor, ref: str | int) -> CustomerDTO:
        actor.require(Permission.CUSTOMER_READ)
        with self._uow.read() as uow:
            return customer_dto(uow.session, resolve_customer(uow.session, ref))

    def find(self, actor: Actor, query: str, limit: int = 20) -> list[CustomerMatch]:
        actor.require(Permission.CUSTOMER_READ)
        wanted = clean_token(query, "query", "search text")
        if not wanted:
            raise ValidationError("Type part of a name, email, account number or tax code to search.", field="query")
        if limit < 1:
            raise ValidationError("The limit must be at least 1.", field="limit")
        with self._uow.read() as uow:
            extra = [hit for source in self._extra_search for hit in source(uow.session, wanted)]
            return search_customers(uow.session, wanted, min(limit, 500), extra)

    def update(self, actor: Actor, ref: str | int, **changes: str | None) -> CustomerDTO:
        """Edit billing-profile fields; omitted (None) fields keep their value."""
        actor.require(Permission.CUSTOMER_WRITE)
        unknown = set(changes) - set(_PROFILE_FIELDS)
        if unknown:
            raise ValidationError(f"Unknown profile field(s): {', '.join(sorted(unknown))}.")
        with self._uow.write() as uow:
            customer = resolve_customer(uow.session, ref)
            before = _profile_of(customer)
            merged = {**before, **{k: v for k, v in changes.items() if v is not None}}
            profile = validate_profile(**merged)
            if (
                customer.currency
                and profile.country != customer.country
                and customer.currency not in allowed_currencies(profile.country, self._paypal_currencies)
            ):
                raise Conflict(
                    f"The currency {customer.currency} is locked and cannot be used in {profile.country}; "
                    "the country cannot change to one that bills in another currency.",
                    field="country",
                )
            after = {f: getattr(profile, f) for f in _PROFILE_FIELDS}
            if after == before:
                return customer_dto(uow.session, customer)
            for field, value in after.items():
                setattr(customer, field, value)
            customer.search_text = profile.search_text(customer.account)
            customer.updated_at = utcnow()
            changed = {k: {"before": before[k], "after": after[k]} for k in after if after[k] != before[k]}
            audit.record(uow.session, actor, "customer.update", "customer", customer.id, {"changes": changed})
            uow.commit()
            return customer_dto(uow.session, customer)

    def set_currency(self, actor: Actor, ref: str | int, code: str) -> CustomerDTO:
        actor.require(Permission.CUSTOMER_WRITE)
        wanted = (code or "").strip().upper()
        if wanted not in CURRENCIES:
            raise ValidationError(f"'{code}' is not a currency code; use e.g. VND, JPY, USD or EUR.", field="currency")
        with self._uow.write() as uow:
            customer = resolve_customer(uow.session, ref)
            if customer.currency is not None:
                raise Conflict(
                    f"{customer.account} already bills in {customer.currency}; a chosen currency can never change.",
                    field="currency",
                )
            allowed = allowed_currencies(customer.country, self._paypal_currencies)
            if wanted not in allowed:
                raise ValidationError(
                    f"A customer in {customer.country} can bill in {', '.join(allowed)}, not {wanted}.",
                    field="currency",
                )
            lock_in_currency(uow.session, customer, wanted)
            audit.record(
                uow.session,
                actor,
                "customer.set_currency",
                "customer",
                customer.id,
                {"before": {"currency": None}, "after": {"currency": wanted}},
            )
            uow.commit()
            return customer_dto(uow.session, customer)

    def set_display_currency(self, actor: Actor, ref: str | int, code: str | None) -> CustomerDTO:
        actor.require(Permission.CUSTOMER_WRITE)
        wanted = (code or "").strip().upper() or None
        if wanted is not None and wanted not in CURRENCIES:
            raise ValidationError(f"'{code}' is not a currency code.", field="display_currency")
        with self._uow.write() as uow:
            customer = resolve_customer(uow.session, ref)
            before = customer.display_currency
            choices = display_currency_choices(customer.country, customer.currency)
            if wanted is not None and wanted not in choices:
                raise ValidationError(f"Show amounts for {customer.account} in {', '.join(choices)}, not {wanted}.",
                                      field="display_currency")
            if wanted == before:
                return customer_dto(uow.session, customer)
            customer.display_currency = wanted
            audit.record(
                uow.session,
                actor,
                "customer.set_display_currency",
                "customer",
                customer.id,
                {"before": {"display_currency": before}, "after": {"display_currency": wanted}},
            )
            uow.commit()
            return customer_dto(uow.session, customer)


def customer_for_audit(session: Session, ref: str | int) -> tuple[int, str]:
    """The audit log's customer filter: account number or id -> (id, account). Handed to the
    audit service by the composition root, since audit sits below customers."""
    customer = resolve_customer(session, ref)
    return customer.id, customer.account
