"""Crash consistency of `billing-desk voucher issue --out FILE` (defect 5), on SQLite and PostgreSQL.

The real CLI runs in a child process and is killed with SIGKILL, either exactly at a named
crash point (``BILLING_DESK_CRASH_AT``, see billing_desk/services/crashpoints.py) or by a timer
at a random moment. After every kill the batch must be in one of two states:

  (a) none of its codes is redeemable, or
  (b) every code is redeemable and the final file exists and is complete (each code once);

and no other file (the hidden temporary beside the target) may hold a redeemable code. Then the
next issue must work. "Redeemable" is read from the manager's voucher list (status active) for
every code of the batch, looked up by the HMAC of the codes found in the files, and confirmed
by redeeming codes through the service on a test customer.

The quick variant kills once at each named point on each database; the soak (``--long``) kills
at least 60 times per database, at random points and times, with batches of up to 50,000.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from billing_desk.bootstrap import App
from billing_desk.domain.enums import VoucherStatus
from billing_desk.domain.errors import BillingDeskError, NotFound
from billing_desk.models import AuditEntry, Voucher, VoucherCampaign, utcnow
from billing_desk.services.crashpoints import CRASH_ENV
from billing_desk.services.vouchers import VoucherFilter, code_hash
from tests.support.staff import STAFF_PASSWORD

# The points, in the order the command passes them; a kill at each must leave (a) or (b).
POINTS = (
    "voucher.before_commit",   # the codes are about to be committed
    "voucher.after_commit",    # committed, no file yet
    "voucher.mid_write",       # half the codes are in the temporary file
    "voucher.after_write",     # the temporary file is whole, not yet at its final name
    "voucher.after_rename",    # the file is at its final name
    "voucher.after_activate",  # the command's work is done, nothing printed yet
)
CODE = re.compile(r"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){4}")
KEY = os.environ["BILLING_DESK_VOUCHER_KEY"].encode()  # tests/conftest.py sets it for every desk and child
KILLED = -signal.SIGKILL


def _hash(code: str) -> str:
    return code_hash(KEY, code.replace("-", ""))


def _read_codes(path: Path) -> list[str] | None:
    """The codes a file holds (a part-written csv gives the rows it got); None if unreadable."""
    if path.suffix == ".xlsx" or ".xlsx." in path.name:
        try:
            rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        except Exception:  # a part-written xlsx is not a zip yet
            return None
        return [r[0] for r in rows[1:] if r and isinstance(r[0], str) and CODE.fullmatch(r[0])]
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()[1:]
    return [first for first in (line.split(",", 1)[0] for line in lines) if CODE.fullmatch(first)]


@dataclass
class Kills:
    """What a run of kills found: every kill's outcome, and every broken invariant in words."""

    kills: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class Desk:
    """The database seen from the test: the batch's codes and their statuses, and redemptions."""

    def __init__(self, app: App, staff) -> None:
        self.app = app
        self.staff = staff
        self._customers = 0

    def batch(self, campaign: str) -> dict[str, str]:
        """code_hash -> status of every voucher of the campaign (empty if it was never committed)."""
        with self.app.uow.read() as r:
            hashes = {vid: h for vid, h in r.session.execute(
                select(Voucher.id, Voucher.code_hash).join(VoucherCampaign, VoucherCampaign.id == Voucher.campaign_id)
                .where(VoucherCampaign.name == campaign))}
        try:
            rows = self.app.vouchers.iter_all(self.staff.manager, VoucherFilter(campaign=campaign))
            status = {row.id: row.status.value for row in rows}
        except NotFound:
            status = {}
        return {h: status[vid] for vid, h in hashes.items()}

    def new_customer(self) -> int:
        """A new USD customer: one per redemption, so the brute-force guard never locks."""
        self._customers += 1
        created = self.app.customers.create(
            self.staff.support, name=f"Crash Test {self._customers}", email=f"crash{self._customers}@example.com",
            country="US", billing_type="personal", tax_code=None)
        self.app.customers.set_currency(self.staff.support, created.id, "USD")
        return created.id

    def redeems(self, code: str) -> bool:
        try:
            self.app.vouchers.redeem(self.staff.support, self.new_customer(), code)
        except BillingDeskError:
            return False
        return True


def check_batch(desk: Desk, campaign: str, count: int, out: Path, label: str) -> tuple[str, list[str]]:
    """The batch's outcome ("none" or "live") and the invariants it breaks, in words."""
    statuses = desk.batch(campaign)
    live = {h for h, st in statuses.items() if st == "active"}
    final = _read_codes(out) if out.exists() else None
    temps = sorted(p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))
    problems = []
    if live:
        if len(live) != len(statuses) or len(live) != count:
            problems.append(f"{len(live)} of {len(statuses)} codes (asked {count}) are redeemable")
        if final is None:
            problems.append(f"{len(live)} redeemable codes, but no readable file at {out.name}")
        elif len(final) != count or len(set(final)) != count or {_hash(c) for c in final} != live:
            problems.append(f"{len(live)} redeemable codes, but {out.name} holds {len(final)} codes, not all of them")
    for temp in temps:
        held = _read_codes(temp)
        if held is None and live:
            problems.append(f"{temp.name} (unreadable) lies beside a live batch")
        elif held and any(_hash(c) in live for c in held):
            problems.append(f"{temp.name} holds {sum(_hash(c) in live for c in held)} redeemable codes")
    # The statuses say what is redeemable; redeeming through the service must agree with them.
    seen = (final or []) + [c for t in temps for c in (_read_codes(t) or [])]
    for code in {seen[0], seen[-1]} if seen else ():
        if desk.redeems(code) != (_hash(code) in live):
            problems.append(f"redeeming ...{code[-4:]} disagrees with its status {statuses.get(_hash(code))}")
    return ("live" if live else "none"), [f"{label}: {p}" for p in problems]


def _child_env(db_url: str, home: Path, crash_at: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, "BILLING_DESK_CONFIG")}
    env.update(BILLING_DESK_DATABASE_URL=db_url, BILLING_DESK_PASSWORD=STAFF_PASSWORD, HOME=str(home))
    if crash_at:
        env[CRASH_ENV] = crash_at
    return env


def start_issue(db_url: str, home: Path, out: Path, count: int, campaign: str,
                crash_at: str | None = None) -> subprocess.Popen[bytes]:
    """`billing-desk voucher issue --count N --out FILE --json` as a child process.

    Its output goes to files beside FILE (a pipe nobody reads would stop a big batch's JSON).
    """
    with _log(out, "stdout").open("wb") as stdout, _log(out, "stderr").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "billing_desk", "voucher", "issue", "--amount", "10", "--currency", "USD",
             "--count", str(count), "--campaign", campaign, "--out", str(out), "--json", "--user", "manager"],
            env=_child_env(db_url, home, crash_at), cwd=home, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)


def _log(out: Path, stream: str) -> Path:
    return out.with_name(f"{out.name}.{stream}")


def check_completed(proc: subprocess.Popen[bytes], out: Path, count: int, label: str) -> list[str]:
    """A run that was not killed must have succeeded and said where its codes are."""
    proc.wait(timeout=600)
    if proc.returncode != 0:
        return [f"{label}: exit {proc.returncode}: {_log(out, 'stderr').read_text().strip()[-500:]}"]
    data = json.loads(_log(out, "stdout").read_text())
    if data.get("out") != str(out) or len(data["codes"]) != count:
        return [f"{label}: the JSON does not name {out.name} with {count} codes"]
    return []


@pytest.fixture
def desk(app: App, staff) -> Desk:
    return Desk(app, staff)


@pytest.mark.parametrize("point", POINTS)
def test_a_kill_at_each_named_point_leaves_no_live_code_outside_a_complete_file(
    point: str, db_url: str, desk: Desk, tmp_path: Path, cli
) -> None:
    out = tmp_path / "codes.csv"
    proc = start_issue(db_url, tmp_path, out, 40, "crash", crash_at=point)
    proc.wait(timeout=300)
    assert proc.returncode == KILLED, f"{point} was never reached (exit {proc.returncode})"
    outcome, problems = check_batch(desk, "crash", 40, out, point)
    assert problems == []
    # Before the commit nothing may survive; from the last step on, the batch must be whole and live.
    if point == "voucher.before_commit":
        assert desk.batch("crash") == {}
    if point == "voucher.after_activate":
        assert outcome == "live"
    # The next issue works, whatever the kill left behind.
    again = tmp_path / "again.csv"
    r = cli("voucher", "issue", "--amount", "10", "--currency", "USD", "--count", "5", "--campaign", "after",
            "--out", str(again), "--json", "--user", "manager")
    assert r.code == 0, r.err
    outcome, problems = check_batch(desk, "after", 5, again, "next issue")
    assert (outcome, problems) == ("live", [])


@pytest.mark.parametrize("point", ["voucher.mid_write", "voucher.after_rename"])
def test_the_next_run_voids_an_abandoned_batch_and_removes_its_part_written_file(
    point: str, db_url: str, desk: Desk, tmp_path: Path, cli, app: App
) -> None:
    from billing_desk.models import VoucherBatch  # here, so the module still imports on the code before the fix

    out = tmp_path / "codes.csv"
    proc = start_issue(db_url, tmp_path, out, 30, "abandoned", crash_at=point)
    proc.wait(timeout=300)
    assert proc.returncode == KILLED
    temps = [p for p in tmp_path.iterdir() if p.name.startswith(".codes.csv.")]
    assert (bool(temps), out.exists()) == ((True, False) if point == "voucher.mid_write" else (False, True))
    assert set(desk.batch("abandoned").values()) == {"pending"}
    # A run still inside its margin is left alone: it may be another desk's, still writing.
    issue_one = ("voucher", "issue", "--amount", "1", "--currency", "USD", "--user", "manager", "--out")
    r = cli(*issue_one, str(tmp_path / "a.csv"))
    assert r.code == 0 and "Voided" not in r.err
    with app.uow.write() as w:  # the abandoned run started an hour ago
        w.session.execute(update(VoucherBatch).where(VoucherBatch.state == "pending")
                          .values(created_at=utcnow() - timedelta(hours=1)))
        w.commit()
    r = cli(*issue_one, str(tmp_path / "b.csv"))
    assert r.code == 0, r.err
    assert "Voided batch" in r.err and "30 code(s)" in r.err
    assert ("may hold these void codes" in r.err) == (point == "voucher.after_rename")
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".codes.csv.")] == []
    assert set(desk.batch("abandoned").values()) == {"void"}
    with app.uow.read() as r_:
        [(summary, reason)] = r_.session.execute(
            select(AuditEntry.summary, AuditEntry.reason).where(AuditEntry.action == "voucher.batch_void")).all()
    assert json.loads(summary)["codes"] == 30 and reason.startswith("abandoned")
    if out.exists():
        with pytest.raises(BillingDeskError, match="void"):
            app.vouchers.redeem(desk.staff.support, desk.new_customer(), _read_codes(out)[0])
    # Repeating the clean-up finds nothing more to do.
    assert app.vouchers.void_abandoned(desk.staff.manager) == []


def _soak_plan(rng: random.Random) -> Iterator[tuple[int, str, str | None]]:
    """(count, file format, crash point or None for a timer kill) for each run, forever."""
    sizes, weights = (1, 20, 500, 5_000, 20_000, 50_000), (15, 20, 25, 20, 10, 10)
    while True:
        count = rng.choices(sizes, weights)[0]
        fmt = "xlsx" if rng.random() < 0.2 else "csv"
        yield count, fmt, (rng.choice(POINTS) if rng.random() < 0.5 else None)


@pytest.mark.long
def test_soak_random_kills_leave_no_live_code_outside_a_complete_file(
    db_url: str, desk: Desk, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """At least 60 kills per database (120 over both), at random points and moments, N up to 50,000."""
    seed = int(os.environ.get("BILLING_DESK_SOAK_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    want = int(os.environ.get("BILLING_DESK_SOAK_KILLS", "60"))
    found = Kills()
    # Seconds a whole run of each size took, measured by letting the first one finish, so that
    # timers land between start-up (the time of a run of one code) and the end of the run.
    took: dict[tuple[int, str], float] = {}
    runs = 0
    sizes: Counter[int] = Counter()
    for count, fmt, point in itertools.chain([(1, "csv", None)], _soak_plan(rng)):
        if found.kills >= want:
            break
        runs += 1
        sizes[count] += 1
        out = tmp_path / f"codes-{runs}.{fmt}"
        timer = point is None and (count, fmt) in took
        label = f"run {runs} ({count} {fmt}, {point or ('timer' if timer else 'whole')})"
        started = time.monotonic()
        proc = start_issue(db_url, tmp_path, out, count, f"soak-{runs}", crash_at=point)
        if timer:
            whole = took[(count, fmt)]
            try:
                proc.wait(timeout=rng.uniform(0.8 * min(took[(1, "csv")], whole), 1.02 * whole))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=600)
        killed = proc.returncode == KILLED
        if killed:
            found.kills += 1
        else:
            took[(count, fmt)] = time.monotonic() - started
            found.violations += check_completed(proc, out, count, label)
        left = "final file" if out.exists() else "temp file" if any(
            p.name.startswith(f".{out.name}.") for p in tmp_path.iterdir()) else "no file"
        outcome, problems = check_batch(desk, f"soak-{runs}", count, out, label)
        found.count(f"killed: {outcome}, {left}" if killed else f"finished: {outcome}, {left}")
        found.violations += problems
        if not killed and outcome != "live":
            found.violations.append(f"{label}: finished, but its codes are not redeemable")
    # After all that, a clean run still works, and the clean-up leaves no pending batch and no part-written file.
    out = tmp_path / "final.csv"
    found.violations += check_completed(start_issue(db_url, tmp_path, out, 1_000, "soak-final"), out, 1_000, "final")
    found.violations += check_batch(desk, "soak-final", 1_000, out, "final")[1]
    desk.app.vouchers.void_abandoned(desk.staff.manager, now=utcnow() + timedelta(hours=1))
    pending = desk.app.vouchers.list_vouchers(desk.staff.manager, VoucherFilter(status=VoucherStatus.PENDING))
    found.violations += [f"after the clean-up: {len(pending)} codes still pending"] if pending else []
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    found.violations += [f"after the clean-up: {name} is left" for name in leftovers]
    db = request.node.callspec.params["db_url"]
    summary = (f"soak on {db}: seed {seed}, {runs} runs, {found.kills} kills, outcomes {found.outcomes}, "
               f"runs by N {dict(sorted(sizes.items()))}, {len(found.violations)} violations")
    print(summary)
    with Path(os.environ.get("BILLING_DESK_SOAK_REPORT", tmp_path / "soak.txt")).open("a") as report:
        report.write(summary + "\n")
    assert found.violations == []
