"""The ledger from the terminal: usage record/import, credit adjust, verify, history, export."""

from __future__ import annotations

import json

from openpyxl import load_workbook
from sqlalchemy import update

from billing_desk.models import CustomerBalance
from tests.support.customers import make_customer
from tests.support.ledger import credit


def _customer(app, staff, amount=1_000_000):
    cid = make_customer(app, staff.manager)
    credit(app, cid, amount, "VND")
    return cid


def test_usage_record_history_and_verify(cli, app, staff):
    cid = _customer(app, staff)
    r = cli("usage", "record", f"C{cid:08d}", "--service", "Storage", "--amount", "150,000",
            "--description", "Storage usage for 1 model", "--key", "feed-1", "--user", "manager", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["status"] == "success" and out["balance"]["total"]["minor"] == 850_000
    again = cli("usage", "record", str(cid), "--service", "Storage", "--amount", "150000", "--key", "feed-1",
                "--user", "manager")
    assert again.code == 0 and "Skipped" in again.out
    clash = cli("usage", "record", str(cid), "--service", "Storage", "--amount", "1", "--key", "feed-1",
                "--user", "manager")
    assert clash.code == 6 and "feed-1" in clash.err and clash.out == ""
    denied = cli("usage", "record", str(cid), "--service", "Storage", "--amount", "1", "--user", "support")
    assert denied.code == 4
    h = json.loads(cli("history", str(cid), "--user", "support", "--json", "--service", "storage").out)
    assert [row["description"] for row in h["rows"]] == ["Storage usage for 1 model"]
    assert h["totals"] == {"count": 1, "sum": {"minor": -150_000, "currency": "VND", "display": "-150,000 ₫"}}
    text = cli("history", str(cid), "--user", "support")
    assert text.code == 0 and "Storage usage for 1 model" in text.out and "2 matching rows" in text.out
    v = cli("ledger", "verify", "--user", "finance", "--json")
    assert v.code == 0 and json.loads(v.out)["ok"] is True


def test_history_pages_with_cursor(cli, app, staff):
    cid = _customer(app, staff)
    for i in range(5):
        assert cli("usage", "record", str(cid), "--service", "AI Inference", "--amount", "10", "--key", f"k{i}",
                   "--user", "manager").code == 0
    first = json.loads(cli("history", str(cid), "--limit", "4", "--user", "support", "--json").out)
    assert len(first["rows"]) == 4 and first["next_cursor"]
    second = json.loads(cli("history", str(cid), "--limit", "4", "--after", first["next_cursor"],
                            "--user", "support", "--json").out)
    assert len(second["rows"]) == 2 and second["next_cursor"] is None
    assert cli("history", str(cid), "--after", "nonsense", "--user", "support").code == 2


def test_verify_names_a_mismatch_and_exits_1(cli, app, staff):
    cid = _customer(app, staff)
    with app.uow.write() as uow:  # a corrupted stored figure, as a bad manual edit would leave it
        uow.session.execute(update(CustomerBalance).where(CustomerBalance.customer_id == cid)
                            .values(topup=CustomerBalance.topup + 1, total=CustomerBalance.total + 1))
        uow.commit()
    r = cli("ledger", "verify", "--user", "finance")
    assert r.code == 1 and f"C{cid:08d}" in r.err and "topup" in r.err
    j = cli("ledger", "verify", "--user", "finance", "--json")
    assert j.code == 1 and json.loads(j.out)["mismatches"][0]["figure"] in ("total", "topup")
    assert cli("ledger", "verify", "--user", "support").code == 4


def test_usage_refused_for_insufficient_credit_exits_6_and_keeps_the_failed_row(cli, app, staff):
    cid = _customer(app, staff, 10_000)
    r = cli("usage", "record", str(cid), "--service", "Storage", "--amount", "50000", "--key", "big-1",
            "--user", "manager", "--json")
    assert r.code == 6  # a refusal: the feed must know the customer was not charged
    out = json.loads(r.out)  # the JSON is still printed, with the status
    assert (out["status"], out["failure_reason"], out["duplicate"]) == ("failed", "insufficient credit", False)
    assert out["balance"]["total"]["minor"] == 10_000
    assert r.err.count("\n") == 1 and "Not charged" in r.err and f"C{cid:08d}" in r.err
    again = cli("usage", "record", str(cid), "--service", "Storage", "--amount", "50000", "--key", "big-1",
                "--user", "manager")
    assert again.code == 6 and again.out == ""  # a replayed key still answers "not charged"
    assert again.err.count("\n") == 1 and "big-1" in again.err
    assert cli("usage", "record", str(cid), "--service", "Storage", "--amount", "4000", "--user", "manager").code == 0
    h = json.loads(cli("history", str(cid), "--status", "failed", "--user", "support", "--json").out)
    assert [(row["status"], row["amount"]["minor"]) for row in h["rows"]] == [("failed", -50_000)]


def test_usage_import_with_refused_lines_exits_6_with_the_counts(cli, app, staff, tmp_path):
    cid = _customer(app, staff, 10_000)
    ok = tmp_path / "ok.csv"
    ok.write_text("customer,timestamp,service,description,amount,key\n"
                  f"{cid},,Storage,ok,1000,f1\n", encoding="utf-8")
    r = cli("usage", "import", str(ok), "--user", "manager", "--json")
    assert r.code == 0 and r.err == "" and json.loads(r.out)["charged"] == 1
    partly = tmp_path / "partly.csv"
    partly.write_text("customer,timestamp,service,description,amount,key\n"
                      f"{cid},,Storage,fits,2000,f2\n{cid},,Storage,too much,50000,f3\n", encoding="utf-8")
    r = cli("usage", "import", str(partly), "--user", "manager", "--json")
    assert r.code == 6 and r.err.count("\n") == 1 and "1 of 2" in r.err
    report = json.loads(r.out)
    assert (report["charged"], report["failed"], report["duplicates"]) == (1, 1, 0)
    replay = cli("usage", "import", str(partly), "--user", "manager", "--json")
    assert replay.code == 6 and "1 of 2" in replay.err  # the refused line is still not charged
    again = json.loads(replay.out)
    assert (again["charged"], again["failed"], again["duplicates"], again["duplicates_failed"]) == (0, 0, 2, 1)
    text = cli("usage", "import", str(partly), "--user", "manager")
    assert text.code == 6 and text.err.count("\n") == 1 and "Imported 2 lines" in text.out
    balance = json.loads(cli("customer", "show", str(cid), "--json", "--user", "support").out)["balance"]
    assert balance["total"]["minor"] == 7_000


def test_usage_import_is_atomic_with_line_numbers(cli, app, staff, tmp_path):
    cid = _customer(app, staff, 100_000)
    other = make_customer(app, staff.manager, "JPY", "Sato Yui")
    credit(app, other, 5_000, "JPY")
    good = tmp_path / "usage.csv"
    good.write_text(
        "customer,timestamp,service,description,amount,key\n"
        f"C{cid:08d},2026-11-01T10:00:00+07:00,Storage,Storage usage for 1 model,20000,a1\n"
        f"{cid},2026-11-01,AI Inference,\"Inference, 1M tokens\",30000,a2\n"
        f"{other},,GPU Container,GPU hours,\"¥1,000\",b1\n"
        f"{cid},,GPU Container,too much,999999,a3\n", encoding="utf-8")
    r = cli("usage", "import", str(good), "--user", "manager", "--json")
    assert r.code == 6, r.err  # a line refused for insufficient credit: applied, but not all charged
    assert json.loads(r.out) | {"totals": None} == {"lines": 4, "charged": 3, "failed": 1, "duplicates": 0,
                                                      "totals": None, "duplicates_failed": 0}
    again = json.loads(cli("usage", "import", str(good), "--user", "manager", "--json").out)
    assert again["duplicates"] == 4 and again["charged"] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,timestamp,service,description,amount,key\n"
                   f"{cid},,Storage,ok,1000,c1\n"
                   "\n"
                   f"{cid},,Storage,fractional dong,10.5,c2\n", encoding="utf-8")
    r = cli("usage", "import", str(bad), "--user", "manager")
    assert r.code == 2 and "Line 4" in r.err and "decimals" in r.err
    clash = tmp_path / "clash.csv"
    clash.write_text("customer,timestamp,service,description,amount,key\n"
                     f"{cid},,Storage,ok,1000,c1\n{cid},,Storage,reused key,2000,a1\n", encoding="utf-8")
    r = cli("usage", "import", str(clash), "--user", "manager")
    assert r.code == 6 and "Line 3" in r.err
    h = json.loads(cli("history", str(cid), "--user", "support", "--json").out)
    assert h["totals"]["count"] == 4  # the top-up and the first file's three rows: nothing of the bad files
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("who,when,what\n1,2,3\n", encoding="utf-8")
    r = cli("usage", "import", str(wrong), "--user", "manager")
    assert r.code == 2 and "header" in r.err


def test_credit_adjust_and_service_catalog(cli, app, staff):
    cid = _customer(app, staff)
    r = cli("credit", "adjust", str(cid), "-200000", "--reason", "Refund of duplicate top-up", "--source", "topup",
            "--user", "manager", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["balance"]["topup"]["minor"] == 800_000
    assert cli("credit", "adjust", str(cid), "100", "--reason", "", "--user", "manager").code == 2
    assert cli("credit", "adjust", str(cid), "100", "--reason", "x", "--user", "finance").code == 4
    assert cli("credit", "adjust", str(cid), "-9000000", "--reason", "x", "--user", "manager").code == 6
    assert cli("service", "add", "Vector DB", "--user", "support").code == 4
    assert cli("service", "add", "Vector DB", "--user", "manager").code == 0
    names = [s["name"] for s in json.loads(cli("service", "list", "--user", "support", "--json").out)]
    assert "Vector DB" in names and "Top-up" in names


def test_export_command_writes_xlsx_and_csv(cli, app, staff, tmp_path):
    cid = _customer(app, staff)
    cli("usage", "record", str(cid), "--service", "Storage", "--amount", "5000", "--description", "=cmd|' /C calc'!A0",
        "--user", "manager")
    out = tmp_path / "h.xlsx"
    r = cli("export", "credit-history", str(cid), "--out", str(out), "--service", "Storage", "--user", "finance",
            "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["rows"] == 1
    cell = load_workbook(out)["Credit history"]["C2"]
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"
    csv_out = tmp_path / "h.csv"
    assert cli("export", "credit-history", str(cid), "--out", str(csv_out), "--user", "finance").code == 0
    assert "'=cmd" in csv_out.read_text(encoding="utf-8-sig")
    for_customer = tmp_path / "for-the-customer.csv"  # customers ask support for their history
    assert cli("export", "credit-history", str(cid), "--out", str(for_customer), "--user", "support").code == 0
    assert "Storage" in for_customer.read_text(encoding="utf-8-sig")
