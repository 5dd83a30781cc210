"""The GUI entry reads the configuration once: the demo desk seeds and checks voucher codes with
the key from the config file, and a bad value is shown in a dialog before any database is opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from billing_desk.domain.errors import ConfigError
from billing_desk.services.demo import DEMO_PASSWORD, DemoService, SeedOptions
from billing_desk.services.demo.seed import SeedReport
from billing_desk.views import app as desk_app
from billing_desk.views.main_window import MainWindow

CODE_KEY = "configured-demo-code-key-" + "k" * 20


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home whose config file is ``tmp_path / "config.toml"``. No voucher key in the
    environment: without the configured one a desk would make a key file of its own here."""
    for var, sub in (("HOME", ""), ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("BILLING_DESK_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("BILLING_DESK_VOUCHER_KEY", raising=False)
    monkeypatch.delenv("BILLING_DESK_DATABASE_URL", raising=False)
    monkeypatch.setattr(desk_app, "_SANDBOX", None)  # the demo's sandbox is stopped below
    return tmp_path


def test_demo_codes_redeem_at_the_demo_desk_with_the_configured_key(fresh_home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (fresh_home / "config.toml").write_text(f'[vouchers]\ncode_key = "{CODE_KEY}"\n', encoding="utf-8")
    reports: list[SeedReport] = []
    seed = DemoService.seed

    def keep_report(service: DemoService, options: SeedOptions) -> SeedReport:
        reports.append(seed(service, options))
        return reports[-1]

    monkeypatch.setattr(DemoService, "seed", keep_report)
    app = desk_app.prepare_demo_database(f"sqlite:///{fresh_home / 'demo.sqlite3'}")
    try:
        detail = next(d for d in reports[0].details if "demo codes to try: " in d)
        vnd_code = detail.split("demo codes to try: ")[1].split(", ")[0]  # VND's comes first
        admin = app.staff.authenticate("admin", DEMO_PASSWORD)
        manager = app.staff.authenticate("manager", DEMO_PASSWORD)
        lan = app.customers.create(admin, name="Nguyen Thi Lan", email="lan@example.vn", country="VN",
                                   billing_type="personal", address="12 Le Loi, Ha Noi")
        app.customers.set_currency(admin, lan.id, "VND")
        redeemed = app.vouchers.redeem(manager, lan.id, vnd_code)
        assert redeemed.amount.currency == "VND" and redeemed.amount.minor > 0
    finally:
        app.close()
        if desk_app._SANDBOX is not None:
            desk_app._SANDBOX.stop()
    assert not (fresh_home / "data" / "billing-desk" / "voucher-code.key").exists()  # the file's key was used


@pytest.mark.parametrize("demo", [False, True], ids=["desk", "demo"])
def test_a_bad_value_is_shown_in_a_dialog_at_start(demo: bool, fresh_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                   qtbot: Any) -> None:
    config = fresh_home / "config.toml"
    config.write_text('[topup]\nminimums = {VND="abc"}\n', encoding="utf-8")
    monkeypatch.setenv("BILLING_DESK_DATABASE_URL", f"sqlite:///{fresh_home / 'never.sqlite3'}")
    shown: list[tuple[Any, ...]] = []
    monkeypatch.setattr(desk_app.QMessageBox, "critical", lambda *args: shown.append(args))
    monkeypatch.setattr(desk_app, "apply_look", lambda qt: None)  # leave the shared QApplication's look alone
    # Should a window open after all, close it: the test then fails instead of waiting for ever.
    closer = QTimer(interval=100)
    closer.timeout.connect(lambda: [w.close() for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)])
    closer.start()
    try:
        with pytest.raises(ConfigError) as raised:  # raised on to `billing-desk gui`, which exits 7
            desk_app.run_gui(demo=demo)
    finally:
        closer.stop()
    assert raised.value.exit_code == 7
    assert len(shown) == 1
    message = shown[0][2]
    assert message.startswith(f"In the config file {config}, [topup] minimums.VND must be an amount of VND")
    assert "\n" not in message
    assert not (fresh_home / "never.sqlite3").exists()
    assert not (fresh_home / "data" / "billing-desk" / desk_app.DEMO_DB_NAME).exists()
