"""Crash consistency of money moving in: payment settlement, voucher redemption, usage import.

The real CLI (`payments reconcile`, `topup create`, `voucher redeem`, `usage import`) runs in
a child process against a real database and the real gateway sandbox, and is killed with
SIGKILL, either at a named crash point (``BILLING_DESK_CRASH_AT``, see
billing_desk/services/crashpoints.py) or by a timer at a random moment. After every kill:

  * `ledger verify` is clean (every balance equals its rows);
  * a payment is pending or failed and credited nowhere, or success and credited exactly once
    (one top-up row of its customer, amount and currency, one settle audit row);
  * a redemption is wholly there (voucher count, redemption row, ledger row and lot, audit row,
    successful attempt) or wholly absent, and no code is used more than its maximum;
  * a usage file is wholly charged (every key once, with its import audit row) or not at all.

Then the same command is run again, as a person would after a crash, and the final state must
be right: every paid payment credited exactly once, every (code, customer) redeemed once (the
re-run refused if the first had committed), every key of a file charged exactly once.

The quick variant kills once at each named point on each database; the soak (``--long``) kills
at least 100 times per database across the three, at random points and moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_desk.bootstrap import App
from billing_desk.domain.money import Money
from billing_desk.models import Customer, VoucherRedemption
from billing_desk.sandbox import SandboxHandle
from billing_desk.services.crashpoints import CRASH_ENV
from billing_desk.services.vouchers.dtos import IssueRequest
from tests.support.cli import CliRunner
from tests.support.customers import make_account
from tests.support.money_checks import charged_keys, import_problems, payment_problems, redemption_problems
from tests.support.payments import pay, write_config
from tests.support.staff import STAFF_PASSWORD

SETTLE = ("payment.after_gateway_reply", "payment.before_commit", "payment.after_commit")
CHECKOUT = ("payment.after_checkout_reply",)
REDEEM = ("redeem.before_commit", "redeem.after_commit")
IMPORT = ("usage_import.mid_import", "usage_import.before_commit", "usage_import.after_commit")
KILLED = -signal.SIGKILL


@dataclass
class Tally:
    """What a run of kills found: kills, outcomes, and every broken invariant in words."""

    kills: int = 0
    runs: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)


class Desk:
    """The test's side: a child `billing-desk` per command, the app for set-up and checks."""

    def __init__(self, app: App, staff, sandbox: SandboxHandle, home: Path, db_url: str, cli: CliRunner) -> None:
        self.app, self.staff, self.sandbox, self.home, self.cli = app, staff, sandbox, home, cli
        self.env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        self.env.update(BILLING_DESK_DATABASE_URL=db_url, BILLING_DESK_PASSWORD=STAFF_PASSWORD, HOME=str(home),
                        BILLING_DESK_CONFIG=str(write_config(home / "config.toml", sandbox.url)))
        self.runs = 0
        self.files: dict[str, list[str]] = {}
        self._accounts = 0
        self.payers: list[str] = []  # the usage files' customers, with ample credit
        # The longest whole child run of each command, for timer kills. When timing (the soak),
        # a command not yet timed runs its first re-run as a child too.
        self.took: dict[str, float] = {}
        self.timing = False
        cli.monkeypatch.setenv("BILLING_DESK_CONFIG", self.env["BILLING_DESK_CONFIG"])
        cli.monkeypatch.setenv("HOME", str(home))
        cli.monkeypatch.chdir(home)

    def run(self, kind: str, args: list[str], crash_at: str | None = None,
            after: float | None = None) -> tuple[int, str, str]:
        """The CLI: in a child process killed at ``crash_at`` or after ``after`` seconds, or when
        neither is given (a re-run, as after a restart) in this process. (exit code, stdout, stderr)"""
        self.runs += 1
        if crash_at is None and after is None and (kind in self.took or not self.timing):
            result = self.cli(*args)
            return result.code, result.out, result.err
        logs = [self.home / f"run-{self.runs}.{s}" for s in ("out", "err")]
        env = {**self.env, **({CRASH_ENV: crash_at} if crash_at else {})}
        started = time.monotonic()
        with logs[0].open("wb") as out, logs[1].open("wb") as err:
            proc = subprocess.Popen([sys.executable, "-m", "billing_desk", *args], env=env, cwd=self.home,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            try:
                proc.wait(timeout=after if after is not None else 300)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
        if proc.returncode != KILLED and crash_at is None:
            self.took[kind] = max(self.took.get(kind, 0.0), time.monotonic() - started)
        return proc.returncode, logs[0].read_text(), logs[1].read_text()

    def account(self, credit: str | None = None) -> str:
        """A new JPY customer (with manager-granted credit if asked), so no guard ever locks."""
        self._accounts += 1
        account = make_account(self.app, self.staff.support, "JPY", name=f"Crash Person {self._accounts}")
        if credit:
            self.app.ledger.adjust(self.staff.manager, account, credit, "crash test float")
        return account

    def problems(self) -> list[str]:
        report = self.app.ledger.verify(self.staff.finance)
        found = [f"ledger verify: {m.describe()}" for m in report.mismatches]
        return found + payment_problems(self.app) + redemption_problems(self.app) + import_problems(self.app,
                                                                                                    self.files)


# -- the three commands: set up, run (maybe killed), run again, check --------------------------

def settle_round(desk: Desk, tally: Tally, label: str, crash_at: str | None, after: float | None,
                 paid: int = 3) -> None:
    """Paid, unpaid and cancelled top-ups, then `payments reconcile` killed, then again."""
    account = desk.account()
    ids = {}
    for action in ["pay"] * paid + ["wait", "cancel"]:
        result = desk.app.payments.create_topup(desk.staff.support, account, "3000")
        if action != "wait":
            pay(desk.sandbox, result.payment.checkout_url, action)
        ids[result.payment.id] = action
    code, _, err = desk.run("reconcile", ["payments", "reconcile", "--json", "--user", "finance"], crash_at, after)
    _after_kill(desk, tally, label, code, err)
    _again(desk, tally, label, "reconcile", ["payments", "reconcile", "--json", "--user", "finance"])
    want = {"pay": "success", "wait": "pending", "cancel": "failed"}
    for pid, action in ids.items():
        status = desk.app.payments.get(desk.staff.finance, pid).status
        if status != want[action]:
            tally.violations.append(f"{label}: payment {pid} ({action}) is {status} after the re-run")


def checkout_round(desk: Desk, tally: Tally, label: str, crash_at: str | None, after: float | None) -> None:
    """`topup create` killed after the gateway made the checkout; reconcile keeps it, the
    customer pays, reconcile credits it once."""
    account = desk.account()
    code, _, err = desk.run("topup", ["topup", "create", account, "3000", "--json", "--user", "support"],
                            crash_at, after)
    _after_kill(desk, tally, label, code, err, ok=(0,))
    _again(desk, tally, label, "reconcile", ["payments", "reconcile", "--json", "--user", "finance"])
    page = desk.app.payments.list_payments(desk.staff.finance)
    for row in (r for r in page.rows if r.customer_account == account):
        if row.checkout_url is None:
            tally.violations.append(f"{label}: payment {row.id} still has no link after reconcile")
            continue
        pay(desk.sandbox, row.checkout_url)
        _again(desk, tally, label, "reconcile", ["payments", "reconcile", "--json", "--user", "finance"])
        if desk.app.payments.get(desk.staff.finance, row.id).status != "success":
            tally.violations.append(f"{label}: payment {row.id} paid but not settled after reconcile")


def redeem_round(desk: Desk, tally: Tally, label: str, crash_at: str | None, after: float | None) -> None:
    """A two-use code: `voucher redeem` killed for one customer, run again, then the second use
    and a third customer who must be refused."""
    issued = desk.app.vouchers.issue(desk.staff.manager, IssueRequest(Money(500, "JPY"), max_redemptions=2))
    code_text, account = issued.codes[0], desk.account()
    args = ["voucher", "redeem", code_text, "--customer", account, "--json", "--user", "support"]
    code, _, err = desk.run("redeem", args, crash_at, after)
    _after_kill(desk, tally, label, code, err)
    committed = account in _redemptions(desk, issued.voucher_ids[0])
    again, _, err = desk.run("redeem", args)
    if (again == 0) == committed:
        tally.violations.append(f"{label}: re-run exit {again} although the first run "
                                f"{'had' if committed else 'had not'} committed: {err.strip()[-200:]}")
    for expected in (0, 6):
        other = desk.account()
        got, _, err = desk.run("redeem", ["voucher", "redeem", code_text, "--customer", other, "--user", "support"])
        if (got == 0) != (expected == 0):
            tally.violations.append(f"{label}: another customer's redemption exit {got}: {err.strip()[-200:]}")
    tally.violations += [f"{label}: {p}" for p in desk.problems()]


def _redemptions(desk: Desk, voucher_id: int) -> list[str]:
    """The accounts that have redeemed the voucher."""
    with desk.app.uow.read() as r:
        return list(r.session.scalars(select(Customer.account).join(VoucherRedemption,
                                      VoucherRedemption.customer_id == Customer.id)
                                      .where(VoucherRedemption.voucher_id == voucher_id)))


def import_round(desk: Desk, tally: Tally, label: str, crash_at: str | None, after: float | None,
                 lines: int = 20) -> None:
    """A usage file over three customers, `usage import` killed, then imported again: every key once."""
    if not desk.payers:
        desk.payers = [desk.account(credit="10000000") for _ in range(3)]
    accounts = desk.payers
    name = f"usage-{desk.runs + 1}.csv"
    keys = [f"{name}-{i}" for i in range(lines)]
    rows = [f"{accounts[i % 3]},,AI Inference,crash test,7,{k}" for i, k in enumerate(keys)]
    (desk.home / name).write_text("customer,timestamp,service,description,amount,key\n" + "\n".join(rows) + "\n")
    desk.files[name] = keys
    args = ["usage", "import", name, "--json", "--user", "manager"]
    code, _, err = desk.run("import", args, crash_at, after)
    _after_kill(desk, tally, label, code, err)
    _again(desk, tally, label, "import", args)
    twice = {k: n for k, n in charged_keys(desk.app, keys).items() if n != 1}
    missing = [k for k in keys if k not in charged_keys(desk.app, keys)]
    if twice or missing:
        tally.violations.append(f"{label}: after the re-run {len(missing)} key(s) uncharged, {len(twice)} twice")


def _after_kill(desk: Desk, tally: Tally, label: str, code: int, err: str, ok: tuple[int, ...] = (0,)) -> None:
    if code == KILLED:
        tally.kills += 1
        tally.outcomes["killed"] += 1
    elif code in ok:
        tally.outcomes["finished"] += 1
    else:
        tally.violations.append(f"{label}: exit {code}: {err.strip()[-300:]}")
    tally.violations += [f"{label} (after the kill): {p}" for p in desk.problems()]


def _again(desk: Desk, tally: Tally, label: str, kind: str, args: list[str]) -> None:
    code, _, err = desk.run(kind, args)
    if code != 0:
        tally.violations.append(f"{label}: the re-run exit {code}: {err.strip()[-300:]}")
    tally.violations += [f"{label} (after the re-run): {p}" for p in desk.problems()]


ROUNDS = {**{p: settle_round for p in SETTLE}, **{p: checkout_round for p in CHECKOUT},
          **{p: redeem_round for p in REDEEM}, **{p: import_round for p in IMPORT}}


@pytest.fixture
def desk(pay_app: App, staff, sandbox: SandboxHandle, tmp_path: Path, db_url: str, cli: CliRunner) -> Desk:
    return Desk(pay_app, staff, sandbox, tmp_path, db_url, cli)


@pytest.mark.slow
@pytest.mark.parametrize("point", list(ROUNDS))
def test_a_kill_at_each_named_point_leaves_money_whole_and_a_rerun_finishes_it(point: str, desk: Desk) -> None:
    tally = Tally()
    ROUNDS[point](desk, tally, point, point, None)
    assert tally.violations == []
    assert tally.kills == 1, f"{point} was never reached: {tally.outcomes}"


def _soak_round(desk: Desk, tally: Tally, rng: random.Random, number: int) -> None:
    kind = rng.choices(("settle", "checkout", "redeem", "import"), (35, 10, 25, 30))[0]
    points = {"settle": SETTLE, "checkout": CHECKOUT, "redeem": REDEEM, "import": IMPORT}[kind]
    command = {"settle": "reconcile", "checkout": "topup", "redeem": "redeem", "import": "import"}[kind]
    point = rng.choice(points) if rng.random() < 0.5 or command not in desk.took else None
    # A timer lands anywhere from the child's start-up to just past the longest whole run seen.
    after = None if point else rng.uniform(0.2, 1.05 * desk.took[command])
    label = f"round {number} ({kind}, {point or f'timer {after:.2f} s'})"
    tally.runs[f"{kind}: {'point' if point else 'timer'}"] += 1
    if kind == "settle":
        settle_round(desk, tally, label, point, after, paid=rng.choice((1, 3, 5)))
    elif kind == "import":
        import_round(desk, tally, label, point, after, lines=rng.choice((1, 20, 200)))
    else:
        ROUNDS[points[0]](desk, tally, label, point, after)


@pytest.mark.long
def test_soak_random_kills_leave_money_whole(desk: Desk, request: pytest.FixtureRequest) -> None:
    """At least 100 kills per database across settlement, checkout, redemption and import."""
    seed = int(os.environ.get("BILLING_DESK_SOAK_SEED", time.time_ns() % 1_000_000))
    want = int(os.environ.get("BILLING_DESK_SOAK_KILLS", "100"))
    rng, tally, started, number = random.Random(seed), Tally(), time.monotonic(), 0
    desk.timing = True
    while tally.kills < want:
        number += 1
        _soak_round(desk, tally, rng, number)
    code, out, err = desk.run("verify", ["ledger", "verify", "--user", "finance"])
    if code != 0:
        tally.violations.append(f"final `ledger verify` exit {code}: {(out + err).strip()[-300:]}")
    db = request.node.callspec.params["db_url"]
    summary = (f"money crash soak on {db}: seed {seed}, {number} rounds, {desk.runs} CLI runs, {tally.kills} kills, "
               f"rounds {dict(sorted(tally.runs.items()))}, outcomes {dict(tally.outcomes)}, "
               f"{len(tally.violations)} violations, {time.monotonic() - started:.0f} s")
    print(summary)
    with Path(os.environ.get("BILLING_DESK_SOAK_REPORT", desk.home / "soak.txt")).open("a") as report:
        report.write(summary + "\n")
    assert tally.violations == []
