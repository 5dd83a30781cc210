"""Deterministic demo data: staff, customers in Vietnam, Japan and elsewhere, and whatever
each capability adds through ``SEED_STEPS``. The same seed gives the same data.

Only into a database created for the demo (``database.require_demo_database``), and, once
staff exist there, only for an admin: the demo staff's password is published.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from billing_desk.domain.countries import allowed_currencies
from billing_desk.domain.errors import PermissionDenied
from billing_desk.domain.permissions import SYSTEM_ACTOR, Actor, Permission
from billing_desk.models import Customer, CustomerBalance, StaffUser, utcnow
from billing_desk.services import audit
from billing_desk.services.customers import Profile, account_number
from billing_desk.services.demo.database import require_demo_database
from billing_desk.services.staff import hash_password
from billing_desk.services.uow import UnitOfWorkFactory

DEMO_PASSWORD = "demo-password"
DEMO_STAFF = (("admin", "admin"), ("manager", "manager"), ("support", "support"), ("finance", "finance"))


@dataclass(frozen=True, slots=True)
class SeedOptions:
    customers: int = 200
    seed: int = 1
    whale: bool = False
    # The desk's voucher code key (the app's ``voucher_key``): demo codes are hashed with it so
    # that they redeem at that desk; without it no voucher campaigns are seeded.
    voucher_key: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class SeedReport:
    customers: int
    staff_created: int
    details: tuple[str, ...]


SeedStep = Callable[[Session, random.Random, SeedOptions, list[int]], str | None]
# Later capabilities append a step; each gets the ids of the customers just created.
SEED_STEPS: list[SeedStep] = []

# fmt: off
_VN_FAMILY = ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang", "Bui", "Do", "Ho", "Ngo"]
_VN_GIVEN = [
    "Anh", "Binh", "Chi", "Dung", "Giang", "Hanh", "Hieu", "Hoa", "Khanh", "Linh", "Minh", "Nam",
    "Phuong", "Quang", "Thao", "Trang", "Tuan", "Vy"
]
_JP_FAMILY = ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato"]
_JP_GIVEN = ["Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Mei", "Kaito", "Sakura", "Riku", "Yuna"]
_W_FAMILY = [
    "Smith", "Johnson", "Müller", "Schmidt", "Martin", "Bernard", "Rossi", "Garcia", "Brown", "Taylor",
    "Wilson", "Dubois", "Novak", "Jensen", "Lee", "Tan"
]
_W_GIVEN = [
    "Emma", "Liam", "Olivia", "Noah", "Sophia", "Lucas", "Mia", "Leon", "Chloe", "Hugo", "Ella",
    "Jonas", "Isabel", "Mateo", "Nora", "Wei"
]
# fmt: on
_OTHER = ["US", "DE", "FR", "GB", "SG", "AU", "NL", "IT", "ES", "CA", "KR", "TH"]
_COMPANY_WORDS = ["Tech", "Data", "AI", "Labs", "Cloud", "Vision", "Robotics", "Analytics", "Software", "Systems"]
_STREETS = {
    "VN": ["Le Loi", "Nguyen Hue", "Tran Hung Dao", "Hai Ba Trung", "Duy Tan"],
    "JP": ["Chiyoda", "Shibuya", "Minato", "Shinjuku", "Nakano"],
    "": ["Main St", "High St", "Park Ave", "Market St"],
}
_CITIES = {
    "VN": ["Ha Noi", "Ho Chi Minh City", "Da Nang"],
    "JP": ["Tokyo", "Osaka", "Kyoto"],
    "": ["Springfield", "Berlin", "Paris", "London"],
}


def _person(rng: random.Random, country: str) -> tuple[str, str]:
    if country == "VN":
        family, given = rng.choice(_VN_FAMILY), rng.choice(_VN_GIVEN)
        return f"{family} {rng.choice(['Van', 'Thi', 'Minh', 'Duc'])} {given}", f"{given}.{family}"
    if country == "JP":
        family, given = rng.choice(_JP_FAMILY), rng.choice(_JP_GIVEN)
        return f"{family} {given}", f"{given}.{family}"
    given, family = rng.choice(_W_GIVEN), rng.choice(_W_FAMILY)
    return f"{given} {family}", f"{given}.{family}"


def fake_profile(rng: random.Random, n: int) -> tuple[Profile, str | None]:
    roll = rng.random()
    country = "VN" if roll < 0.4 else "JP" if roll < 0.65 else rng.choice(_OTHER)
    company = rng.random() < 0.3
    person, handle = _person(rng, country)
    if company:
        base = person.split()[0]
        suffix = {"VN": "JSC", "JP": "K.K."}.get(country, rng.choice(["Ltd", "GmbH", "Inc", "SAS"]))
        name = f"{base} {rng.choice(_COMPANY_WORDS)} {suffix}"
        email = f"billing{n}@{base.lower()}-{rng.choice(_COMPANY_WORDS).lower()}.example.com"
        tax = f"{country}{rng.randrange(10**9, 10**10)}"
    else:
        name, tax = person, None
        email = f"{handle.lower().replace('ü', 'u')}{n}@example.com"
    key = country if country in ("VN", "JP") else ""
    address = f"{rng.randrange(1, 300)} {rng.choice(_STREETS[key])}, {rng.choice(_CITIES[key])}"
    currency = None if rng.random() < 0.12 else rng.choice(allowed_currencies(country))
    return Profile("company" if company else "personal", name, email, address, country, tax), currency


def _seed_staff(session: Session) -> int:
    existing = set(session.scalars(select(StaffUser.name)))
    created = 0
    password_hash = hash_password(DEMO_PASSWORD)
    for name, role in DEMO_STAFF:
        if name not in existing:
            session.add(
                StaffUser(
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    disabled=False,
                    failed_logins=0,
                    created_at=utcnow(),
                )
            )
            created += 1
    session.flush()
    return created


def _seed_customers(session: Session, rng: random.Random, count: int, batch: int = 5000) -> list[int]:
    first_id = int(session.scalar(select(func.coalesce(func.max(Customer.id), 0))) or 0) + 1
    now = utcnow()
    ids: list[int] = []
    for start in range(0, count, batch):
        customers, balances = [], []
        for offset in range(start, min(start + batch, count)):
            cid = first_id + offset
            profile, currency = fake_profile(rng, cid)
            account = account_number(cid)
            created = now - timedelta(days=rng.randrange(30, 720), seconds=rng.randrange(86400))
            customers.append(
                {
                    "id": cid,
                    "account": account,
                    "billing_type": profile.billing_type,
                    "name": profile.name,
                    "email": profile.email,
                    "address": profile.address,
                    "country": profile.country,
                    "tax_code": profile.tax_code,
                    "currency": currency,
                    "display_currency": None,
                    "search_text": profile.search_text(account),
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if currency:
                balances.append(
                    {"customer_id": cid, "currency": currency, "total": 0, "topup": 0, "voucher": 0, "updated_at": now}
                )
            ids.append(cid)
        session.execute(insert(Customer), customers)
        if balances:
            session.execute(insert(CustomerBalance), balances)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))")
        )
    return ids


def _require_admin(session: Session, actor: Actor | None) -> None:
    """Where staff exist, only an admin may seed: it adds accounts with a published password."""
    if actor is not None:
        actor.require(Permission.DEMO_SEED)
    elif session.scalar(select(func.count()).select_from(StaffUser)):
        raise PermissionDenied("Staff already exist: log in as an admin (--user NAME) to add demo data.")


class DemoService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def check_database(self) -> None:
        """Refuse early (before asking anyone to log in) a database not created for the demo."""
        with self._uow.read() as uow:
            require_demo_database(uow.session)

    def seed(self, options: SeedOptions, actor: Actor | None = None) -> SeedReport:
        """Add the demo data; ``actor`` must be an admin once staff exist (None before)."""
        rng = random.Random(options.seed)
        with self._uow.write() as uow:
            require_demo_database(uow.session)
            _require_admin(uow.session, actor)
            staff = _seed_staff(uow.session)
            ids = _seed_customers(uow.session, rng, options.customers)
            details = [d for step in SEED_STEPS if (d := step(uow.session, rng, options, ids))]
            audit.record(
                uow.session,
                actor or SYSTEM_ACTOR,
                "demo.seed",
                "database",
                "-",
                {"customers": len(ids), "seed": options.seed, "whale": options.whale},
            )
            uow.commit()
        return SeedReport(len(ids), staff, tuple(details))


# Each capability's seed step, in order: imported at the end because the steps use this
# module's helpers; payments come after the history, whose top-up rows they mirror.
from billing_desk.services.demo.catalog import seed_catalog  # noqa: E402
from billing_desk.services.demo.history import seed_history  # noqa: E402

SEED_STEPS.extend([seed_history, seed_catalog])
