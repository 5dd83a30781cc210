"""Staff accounts: adding, listing, disabling, passwords, and logging in.

Passwords are Argon2id-hashed (argon2-cffi, OWASP's minimum of 19 MiB and 2 iterations),
salted per user. Failed logins lock the account for a delay that doubles with each failure
after the third, up to 15 minutes; the lock lives in the database, so it holds across desks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing_desk.domain.enums import Role
from billing_desk.domain.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied, ValidationError
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.text import clean_token, has_control
from billing_desk.models import StaffUser, utcnow
from billing_desk.services import audit
from billing_desk.services.staff.dtos import StaffDTO
from billing_desk.services.staff.passwords import check_new_password
from billing_desk.services.uow import UnitOfWorkFactory

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
FREE_FAILURES = 3
MAX_LOCK = timedelta(minutes=15)


def hash_password(password: str) -> str:
    """An Argon2id hash with its own salt, in the encoded form stored in staff_users."""
    return _HASHER.hash(password)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise ValidationError(f"Unknown role '{value}'; choose one of {roles}.", field="role") from None


def _check_name(name: str) -> str:
    clean = clean_token(name, "name", "staff name")
    if not clean or len(clean) > 64 or any(ch.isspace() for ch in clean):
        raise ValidationError("A staff name is 1 to 64 characters without spaces, e.g. 'ana'.", field="name")
    return clean


def lock_delay(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_LOCK)


def _dto(user: StaffUser) -> StaffDTO:
    return StaffDTO(user.id, user.name, user.role, user.disabled, user.created_at, user.failed_logins,
                    user.last_failed_at, user.locked_until, user.last_login_at)


def _keep_an_admin(session: Session, user: StaffUser, change: str) -> None:
    """Refuse to leave the desk with no enabled admin: nobody could then manage staff.

    The enabled admins are locked (FOR UPDATE on PostgreSQL; SQLite's write transaction is
    already exclusive), so two admins demoting each other at once cannot both succeed."""
    if user.role != Role.ADMIN.value or user.disabled:
        return
    admins = session.scalars(select(StaffUser.id).where(
        StaffUser.role == Role.ADMIN.value, StaffUser.disabled.is_(False)).with_for_update()).all()
    if set(admins) <= {user.id}:
        raise Conflict(f"'{user.name}' is the last enabled admin and cannot be {change}: "
                       "make another staff member an admin first.", field="role")


def _get(session: Session, name: str) -> StaffUser:
    user = None if has_control(name) else session.scalar(select(StaffUser).where(StaffUser.name == name))
    if user is None:
        raise NotFound(f"No staff member is called '{name}'.")
    return user


def _count_failure(user: StaffUser, now: datetime) -> None:
    user.failed_logins += 1
    user.last_failed_at = now
    delay = lock_delay(user.failed_logins)
    user.locked_until = now + delay if delay else None


def _locked_seconds(user: StaffUser, now: datetime) -> int | None:
    """How long the account stays locked after wrong passwords, or None if it is not."""
    if user.locked_until and user.locked_until > now:
        return int((user.locked_until - now).total_seconds()) + 1
    return None


def _password_matches(user: StaffUser, password: str, now: datetime) -> bool:
    """Check ``password``; a wrong one is counted towards the lock-out (the caller commits)."""
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        _count_failure(user, now)
        return False
    return True


def _store_password(user: StaffUser, password: str) -> None:
    """A new password, and the lock-out counters cleared with it."""
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None


class StaffService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def has_staff(self) -> bool:
        with self._uow.read() as uow:
            return bool(uow.session.scalar(select(func.count()).select_from(StaffUser)))

    def add(self, actor: Actor | None, name: str, role: str, password: str) -> StaffDTO:
        """Add a staff member. With no staff yet, the first account must be an admin and
        needs no login; after that only an admin may add staff."""
        clean, parsed = _check_name(name), parse_role(role)
        check_new_password(password)
        with self._uow.write() as uow:
            first = not uow.session.scalar(select(func.count()).select_from(StaffUser))
            if first and parsed is not Role.ADMIN:
                raise ValidationError("The first staff account must be an admin: use --role admin.", field="role")
            if not first:
                if actor is None:
                    raise PermissionDenied("Staff already exist: log in as an admin (--user NAME) to add staff.")
                actor.require(Permission.STAFF_MANAGE)
            if uow.session.scalar(select(StaffUser.id).where(StaffUser.name == clean)) is not None:
                raise Conflict(f"A staff member called '{clean}' already exists.")
            user = StaffUser(
                name=clean,
                role=parsed.value,
                password_hash=hash_password(password),
                disabled=False,
                failed_logins=0,
                created_at=utcnow(),
            )
            uow.session.add(user)
            uow.session.flush()
            by = actor or Actor(user.id, clean, Role.ADMIN)
            audit.record(uow.session, by, "staff.add", "staff", user.id, {"name": clean, "role": parsed.value})
            uow.commit()
            return _dto(user)

    def list(self, actor: Actor) -> list[StaffDTO]:
        actor.require(Permission.STAFF_MANAGE)
        with self._uow.read() as uow:
            return [_dto(u) for u in uow.session.scalars(select(StaffUser).order_by(StaffUser.name))]

    def disable(self, actor: Actor, name: str) -> StaffDTO:
        actor.require(Permission.STAFF_MANAGE)
        if name == actor.name:
            raise Conflict("You cannot disable your own account; ask another admin.")
        with self._uow.write() as uow:
            user = _get(uow.session, name)
            if user.disabled:
                raise Conflict(f"'{name}' is already disabled.")
            _keep_an_admin(uow.session, user, "disabled")
            user.disabled = True
            audit.record(
                uow.session,
                actor,
                "staff.disable",
                "staff",
                user.id,
                {"name": name, "before": {"disabled": False}, "after": {"disabled": True}},
            )
            uow.commit()
            return _dto(user)

    def enable(self, actor: Actor, name: str) -> StaffDTO:
        """Let a disabled staff member log in again (the lock-out counters start afresh)."""
        actor.require(Permission.STAFF_MANAGE)
        with self._uow.write() as uow:
            user = _get(uow.session, name)
            if not user.disabled:
                raise Conflict(f"'{name}' is already enabled.")
            user.disabled = False
            user.failed_logins = 0
            user.locked_until = None
            audit.record(uow.session, actor, "staff.enable", "staff", user.id,
                         {"name": name, "before": {"disabled": True}, "after": {"disabled": False}})
            uow.commit()
            return _dto(user)

    def set_role(self, actor: Actor, name: str, role: str) -> StaffDTO:
        """Give a staff member another role; the last enabled admin keeps theirs."""
        actor.require(Permission.STAFF_MANAGE)
        parsed = parse_role(role)
        with self._uow.write() as uow:
            user = _get(uow.session, name)
            if user.role == parsed.value:
                raise Conflict(f"'{name}' already has the role {parsed.value}.", field="role")
            if parsed is not Role.ADMIN:
                _keep_an_admin(uow.session, user, f"made {parsed.value}")
            before = user.role
            user.role = parsed.value
            audit.record(uow.session, actor, "staff.role", "staff", user.id,
                         {"name": name, "before": {"role": before}, "after": {"role": parsed.value}})
            uow.commit()
            return _dto(user)

    def set_password(self, actor: Actor, name: str, password: str) -> None:
        if name != actor.name:
            actor.require(Permission.STAFF_MANAGE)
        check_new_password(password)
        with self._uow.write() as uow:
            user = _get(uow.session, name)
            _store_password(user, password)
            audit.record(uow.session, actor, "staff.set_password", "staff", user.id, {"name": name})
            uow.commit()

    def change_password(self, actor: Actor, current: str, new: str) -> None:
        """A staff member changes their own password. The current one is asked for (and a wrong
        one counts towards the lock-out, as at log-in), so a desk left logged in does not
        hand over the account."""
        check_new_password(new)
        if new == current:
            raise ValidationError("The new password must differ from the current one.", field="new_password")
        now = utcnow()
        with self._uow.write() as uow:
            user = uow.session.get(StaffUser, actor.staff_id) if actor.staff_id is not None else None
            if user is None or user.disabled:
                raise PermissionDenied(f"{actor.name} has no staff account whose password could be changed.")
            if (wait := _locked_seconds(user, now)) is not None:
                raise AuthenticationFailed(f"Too many wrong passwords for '{user.name}': try again in {wait} s.")
            if not _password_matches(user, current, now):
                uow.commit()
                raise ValidationError("The current password is not right.", field="current_password")
            _store_password(user, new)
            audit.record(uow.session, actor, "staff.change_password", "staff", user.id, {"name": user.name})
            uow.commit()

    def authenticate(self, name: str, password: str) -> Actor:
        """Check a login; every failure is counted in the database and delays the next try."""
        now = utcnow()
        refused = AuthenticationFailed(f"Wrong name or password for '{name}'.")
        with self._uow.write() as uow:
            # A name with a control character belongs to nobody (none can be added).
            user = None if has_control(name.strip()) else uow.session.scalar(
                select(StaffUser).where(StaffUser.name == name.strip()))
            if user is None:
                _HASHER.hash(password)  # same cost as a real check, so names cannot be probed by timing
                raise refused
            if (wait := _locked_seconds(user, now)) is not None:
                raise AuthenticationFailed(f"Too many failed logins for '{name}': try again in {wait} s.")
            if not _password_matches(user, password, now):
                uow.commit()
                raise refused
            if user.disabled:
                raise AuthenticationFailed(f"The account '{name}' is disabled; ask an admin.")
            if user.failed_logins or user.locked_until:
                user.failed_logins = 0
                user.locked_until = None
            user.last_login_at = now
            if _HASHER.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            uow.commit()
            return Actor(user.id, user.name, Role(user.role))
