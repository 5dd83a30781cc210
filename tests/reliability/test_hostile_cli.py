"""Hostile arguments and hostile config files through the real CLI, in a subprocess.

Each case runs ``python -m billing_desk ...`` against a SQLite copy of the suite's template
(the services suite covers PostgreSQL in-process). Invariant for every case: no "Traceback"
on stderr, a message of exactly one line, a non-zero exit (7 for a config error), and every
table's row count unchanged. Arguments are amounts, currencies, codes, emails, tax codes,
dates, ids, limits and file paths, hostile each in its own way (beyond 64 bits, 1e308, NaN,
full-width digits, right-to-left marks, raw non-UTF-8 bytes, 5,000 characters, SQL); config
files hold wrong types, huge numbers, non-UTF-8 bytes, NUL, deep nesting and 1e308. A voucher
key file that is not text and a usage import of a folder are here too. The quick run samples
the argument cases; ``--long`` runs them all.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from tests.support.customers import add_customer
from tests.support.hostile import Tally, row_counts
from tests.support.staff import STAFF_PASSWORD, StaffActors
from tests.support.vouchers import TEST_KEY

TALLY = Tally()
CUSTOMER = "C00000001"
QUICK_SAMPLE, LONG_SAMPLE = 12, 100  # of 342 argument cases: CLI start-up takes 2-6 s on a loaded 2-core machine
QUICK_CONFIGS = ("not UTF-8", "NUL escaped", "timeout 1e308", "a 5,000-digit number", "arrays nested 20,000 deep",
                 "minimum 1e308", "retries beyond 64 bits", "gateways not a table")
WORKERS = 3  # three CLI processes at a time: start-up is CPU, and the machine has two cores

# Values that must be refused wherever they stand for an amount, a currency, an id, a date, an
# email or a code. (A NUL cannot be passed in argv; "\udcff" reaches the child as the raw byte
# 0xFF, argv that is not UTF-8.)
HOSTILE_VALUES = ["", " ", "-1", "1e308", "9" * 40, str(2**64), "NaN", "25.555", "'; DROP TABLE customers; --",
                  "\x7f", "é" * 300, "ＵＳＤ", "\u202e25", "a" * 5000, "0x10", "-", "../../etc/passwd", "%s%n",
                  "2026-02-30", "0001-01-01T00:00+14:00", "\udcff", "1,2,3", "--user"]

# Each template is a command that writes when given good values; ``{}`` is where the hostile
# value goes, given with ``=`` where it is an option so that "-1" or "--user" stays a value.
TEMPLATES = [
    ["credit", "adjust", CUSTOMER, "{}", "--reason=hostile", "--user", "manager"],
    ["credit", "adjust", "{}", "10", "--reason=hostile", "--user", "manager"],
    ["usage", "record", CUSTOMER, "--service=Storage", "--amount={}", "--user", "manager"],
    ["voucher", "issue", "--amount={}", "--currency=USD", "--user", "manager"],
    ["voucher", "issue", "--amount=10", "--currency={}", "--user", "manager"],
    ["voucher", "issue", "--amount=10", "--currency=USD", "--valid-until={}", "--user", "manager"],
    ["voucher", "issue", "--amount=10", "--currency=USD", "--count={}", "--user", "manager"],
    ["customer", "create", "--name=N", "--email={}", "--country=VN", "--type=personal", "--user", "support"],
    ["customer", "create", "--name=N", "--email=n@example.com", "--country={}", "--type=company",
     "--tax-code={}", "--user", "support"],
    ["customer", "update", CUSTOMER, "--email={}", "--user", "support"],
    ["plan", "add", "{}", "--name=P", "--price=USD:{}", "--user", "manager"],
    ["payments", "show", "{}", "--user", "finance"],
    ["history", CUSTOMER, "--from={}", "--user", "support"],
    ["audit", "list", "--since={}", "--limit={}", "--user", "admin"],
    ["topup", "create", CUSTOMER, "{}", "--user", "support"],
]

# Where a "hostile" value is a valid one: a negative adjustment takes credit away, and an
# empty date bound means "no bound", as everywhere in the desk.
VALID = {(tuple(TEMPLATES[0]), "-1"), (tuple(TEMPLATES[5]), ""), (tuple(TEMPLATES[12]), "")}


@dataclass(frozen=True)
class Case:
    label: str
    argv: list[str]
    env: dict[str, str]
    config_error: bool = False


@dataclass
class Run:
    case: Case
    code: int
    out: str
    err: str


def _env(db_url: str, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_DESK_")}
    env.update(BILLING_DESK_DATABASE_URL=db_url, BILLING_DESK_PASSWORD=STAFF_PASSWORD, HOME=str(home),
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               BILLING_DESK_VOUCHER_KEY=TEST_KEY)
    env.update(extra)
    return env


def run(case: Case, home: Path) -> Run:
    proc = subprocess.run([sys.executable, "-m", "billing_desk", *case.argv], env=case.env, cwd=home,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    return Run(case, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def check_refused(r: Run) -> None:
    label = f"{r.case.label}: exit {r.code}, stderr {r.err[:300]!r}"
    assert "Traceback" not in r.err, label
    assert r.code != 0, label
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("billing-desk: "), label
    if r.case.config_error:
        assert r.code == 7, label
    TALLY.note("cli " + r.case.label.split(":")[0], "refused")


def refuse_all(cases: list[Case], home: Path) -> None:
    """Run the cases, three at a time, and report every one that was not a clean refusal."""
    with ThreadPoolExecutor(WORKERS) as pool:
        runs = list(pool.map(lambda c: run(c, home), cases))
    failures = []
    for r in runs:
        try:
            check_refused(r)
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    assert not failures, f"{len(failures)} of {len(runs)} cases:\n" + "\n".join(failures)


@pytest.fixture
def desk(sqlite_template: Path, tmp_path: Path, staff: StaffActors) -> Iterator[tuple[App, str, Path]]:
    target = tmp_path / "billing.sqlite3"
    shutil.copyfile(sqlite_template, target)
    url = f"sqlite:///{target}"
    app = build_app(Settings(database_url=url, config_path=None))
    customer = add_customer(app, staff.support, "USD")
    assert customer.account == CUSTOMER
    app.ledger.adjust(staff.manager, customer.id, "50.00", "Opening credit")
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    yield app, url, home
    app.close()


def _argument_cases(url: str, home: Path) -> list[Case]:
    env = _env(url, home)
    cases = []
    for template in TEMPLATES:
        for value in HOSTILE_VALUES:
            if (tuple(template), value) in VALID:
                continue
            argv = [part.replace("{}", value) for part in template]
            cases.append(Case(f"argv {' '.join(template[:2])}: {value[:20]!r}", argv, env))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize("sample", [pytest.param(QUICK_SAMPLE, id="quick"),
                                    pytest.param(LONG_SAMPLE, id="long", marks=[pytest.mark.long])])
def test_hostile_arguments_are_refused_in_one_line(desk: tuple[App, str, Path], sample: int) -> None:
    app, url, home = desk
    cases = random.Random(20261129 + sample).sample(_argument_cases(url, home), sample)
    before = row_counts(app.database.engine)
    refuse_all(cases, home)
    assert row_counts(app.database.engine) == before, "a refused command wrote rows"


CONFIGS: dict[str, bytes] = {
    "not UTF-8": b"\xff\xfe[gateways]\n",
    "NUL byte": b"[gateways.vnpay]\ntmn_code = \"a\x00b\"\n",
    "NUL escaped": b'[gateways.vnpay]\ntmn_code = "a\\u0000b"\n',
    "NUL in database url": b'[database]\nurl = "sqlite:///x\\u0000y"\n',
    "line break in a url": b'[gateways.stripe]\napi_base = "http://x\\ny"\n',
    "timeout 1e308": b"[gateways.vnpay]\nconnect_timeout = 1e308\n",
    "timeout nan": b"[gateways.vnpay]\nread_timeout = nan\n",
    "timeout a date": b"[gateways.vnpay]\nread_timeout = 1979-05-27\n",
    "expiry margin 1e308": b"[topup]\nexpiry_margin_minutes = 1e308\n",
    "retries as text": b'[gateways.stripe]\nmax_retries = "2"\n',
    "retries beyond 64 bits": b"[gateways.stripe]\nmax_retries = 99999999999999999999999\n",
    "a 5,000-digit number": b"[gateways.stripe]\nmax_retries = " + b"9" * 5000 + b"\n",
    "arrays nested 20,000 deep": b"a = " + b"[" * 20000 + b"]" * 20000 + b"\n",
    "tables nested 3,000 deep": b"a = " + b"{b = " * 3000 + b"1" + b"}" * 3000 + b"\n",
    "currencies not a list": b'[gateways.paypal]\ncurrencies = "USD"\n',
    "currencies numbers": b"[gateways.paypal]\ncurrencies = [1, 2]\n",
    "gateways not a table": b"gateways = 5\n",
    "a gateway not a table": b"[gateways]\nvnpay = [1]\n",
    "minimum true": b"[topup]\nminimums = { USD = true }\n",
    "minimum unknown currency": b'[topup]\nminimums = { XYZ = "5" }\n',
    "minimum 1e308": b"[topup]\nminimums = { USD = 1e308 }\n",
    "code key a number": b"[vouchers]\ncode_key = 12345\n",
    "code key short": b'[vouchers]\ncode_key = "short"\n',
    "database url a number": b"[database]\nurl = 5\n",
    "text key a list": b'[gateways.vnpay]\nip_addr = ["x"]\n',
    "not TOML": b"[gateways.vnpay\n= =\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("labels", [pytest.param(QUICK_CONFIGS, id="quick"),
                                    pytest.param(tuple(CONFIGS), id="long", marks=[pytest.mark.long])])
def test_hostile_config_files_are_config_errors(desk: tuple[App, str, Path], tmp_path: Path,
                                                labels: tuple[str, ...]) -> None:
    app, url, home = desk
    cases = []
    for i, label in enumerate(labels):
        content = CONFIGS[label]
        path = tmp_path / f"config-{i}.toml"
        path.write_bytes(content)
        env = _env(url, home, BILLING_DESK_CONFIG=str(path))
        env.pop("BILLING_DESK_DATABASE_URL")  # the file is read whether or not it names the database
        argv = ["credit", "adjust", CUSTOMER, "10", "--reason=config", "--user", "manager"]
        cases.append(Case(f"config: {label}", argv, env, config_error=True))
    folder = tmp_path / "a-folder.toml"
    folder.mkdir()
    cases.append(Case("config: a folder", ["customer", "find", "x", "--user", "support"],
                      _env(url, home, BILLING_DESK_CONFIG=str(folder)), config_error=True))
    cases.append(Case("config: named but absent", ["customer", "find", "x", "--user", "support"],
                      _env(url, home, BILLING_DESK_CONFIG=str(tmp_path / "nowhere.toml")), config_error=True))
    before = row_counts(app.database.engine)
    refuse_all(cases, home)
    assert row_counts(app.database.engine) == before


@pytest.mark.slow
def test_key_file_not_text_and_usage_import_of_a_folder(desk: tuple[App, str, Path], tmp_path: Path) -> None:
    app, url, home = desk
    key_file = home / "data" / "billing-desk" / "voucher-code.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(b"\xff\xfe\x00binary\x80" * 8)
    no_key_env = _env(url, home)
    no_key_env.pop("BILLING_DESK_VOUCHER_KEY")
    folder = tmp_path / "usage.csv"
    folder.mkdir()
    not_text = tmp_path / "usage-binary.csv"
    not_text.write_bytes(b"customer,timestamp\n\xff\xfe\x00\x80")
    cases = [
        Case("key file: not text", ["voucher", "issue", "--amount=10", "--currency=USD", "--user", "manager"],
             no_key_env, config_error=True),
        Case("key file: not text", ["voucher", "redeem", "ABCD-EFGH-JKMN-PQRS-TUVW", "--customer", CUSTOMER,
                                    "--user", "support"], no_key_env, config_error=True),
        Case("usage import: a folder", ["usage", "import", str(folder), "--user", "manager"], _env(url, home)),
        Case("usage import: not UTF-8", ["usage", "import", str(not_text), "--user", "manager"], _env(url, home)),
        Case("usage import: absent", ["usage", "import", str(tmp_path / "none.csv"), "--user", "manager"],
             _env(url, home)),
        Case("usage import: /dev/null", ["usage", "import", "/dev/null", "--user", "manager"], _env(url, home)),
    ]
    before = row_counts(app.database.engine)
    refuse_all(cases, home)
    assert row_counts(app.database.engine) == before
    assert key_file.read_bytes().startswith(b"\xff\xfe"), "the key file was replaced"


def test_report(tmp_path: Path) -> None:
    """Prints the cases tried by the tests above in this run (run last in this file)."""
    TALLY.report("hostile CLI", tmp_path)
