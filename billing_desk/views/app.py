"""The GUI entry: `billing-desk gui [--demo]`.

Checks that a display exists, creates the QApplication, logs in (or, in demo mode, makes
the demo database on first start and logs in as the demo manager), and shows the main
window. ``build_desk`` is the part tests and benchmarks reuse.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from billing_desk.bootstrap import App, build_app
from billing_desk.config import load_settings, user_data_dir
from billing_desk.domain.errors import BillingDeskError
from billing_desk.domain.permissions import Actor
from billing_desk.resources import resource_path
from billing_desk.views.change_bus import ChangeBus
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.login_dialog import LoginDialog
from billing_desk.views.error_text import error_message
from billing_desk.views.export_process import ProcessExporter
from billing_desk.views.main_window import MainWindow
from billing_desk.views.tasks import TaskRunner

log = logging.getLogger(__name__)
NO_DISPLAY = (
    "billing-desk: no display found, so the window cannot open. On a machine without a screen run "
    "`QT_QPA_PLATFORM=offscreen billing-desk gui` (draws nowhere, for checks) or "
    "`xvfb-run -a billing-desk gui` (a virtual screen); or use the CLI commands.\n"
)
DEMO_DB_NAME = "billing-desk-demo.sqlite3"


def has_display(env: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    env = dict(os.environ if env is None else env)
    if env.get("QT_QPA_PLATFORM") or not platform.startswith("linux"):
        return True  # Windows and macOS always have a screen; an explicit platform is trusted
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def style_sheet() -> str:
    path = resource_path("style.qss")
    if not path.exists():
        return ""
    # Style sheets take no relative URLs, so icon paths are filled in where the files are.
    return path.read_text(encoding="utf-8").replace("@ICONS@", resource_path("icons").as_posix())


def apply_look(qt: QApplication) -> None:
    """The style sheet plus the palette and font it leaves out (see style.qss for why)."""
    font = qt.font()
    font.setPointSize(10)
    qt.setFont(font)
    palette = qt.palette()
    for role, colour in ((QPalette.ColorRole.WindowText, "#1f2937"), (QPalette.ColorRole.Text, "#1f2937"),
                         (QPalette.ColorRole.ButtonText, "#1f2937"), (QPalette.ColorRole.Base, "#ffffff"),
                         (QPalette.ColorRole.AlternateBase, "#f9fafb"), (QPalette.ColorRole.Highlight, "#dbeafe"),
                         (QPalette.ColorRole.HighlightedText, "#111827")):
        palette.setColor(role, QColor(colour))
    qt.setPalette(palette)
    qt.setStyleSheet(style_sheet())


def user_settings() -> QSettings:
    return QSettings("billing-desk", "Billing Desk")


class Desk:
    """A running desk: what the window needs and what must be closed after it.

    Log out closes the window and shows the login dialog; whoever logs in next gets a new
    window of their own (their permissions, their recent customers, no customer open) and a
    new change bus, so the closed window's tabs never run another query.
    """

    def __init__(self, app: App, runner: TaskRunner, settings: QSettings, actor: Actor,
                 on_end: Callable[[], None] | None = None) -> None:
        self.app, self.runner, self.settings = app, runner, settings
        self.on_end = on_end  # called when a log-out ends with nobody logging in
        self.login: LoginDialog | None = None
        self.bus, self.window = self._open_window(actor)

    def _open_window(self, actor: Actor) -> tuple[ChangeBus, MainWindow]:
        bus = ChangeBus()
        ctx = ViewContext(app=self.app, actor=actor, runner=self.runner, bus=bus, settings=self.settings,
                          exporter=ProcessExporter(self.app.settings.database_url,
                                                   busy_wait=self.app.settings.busy_wait))
        window = MainWindow(ctx)
        window.log_out_requested.connect(self.log_out)
        self.runner.default_failure = window.show_failure  # this desk's errors open over this desk's window
        return bus, window

    def log_out(self) -> None:
        dialog = LoginDialog(self.app, self.runner, self.app.database.url)
        dialog.accepted.connect(lambda: self._logged_in(dialog))
        dialog.rejected.connect(self._nobody_logged_in)
        self.login = dialog
        dialog.show()  # before the window closes, so closing it is not the last window closing
        self.window.close()

    def _logged_in(self, dialog: LoginDialog) -> None:
        self.login = None
        if dialog.actor is None:
            return
        self.settings.setValue("login/last_user", dialog.actor.name)
        self.bus, self.window = self._open_window(dialog.actor)
        self.window.show()
        self.window.activateWindow()

    def _nobody_logged_in(self) -> None:
        self.login = None
        if self.on_end is not None:
            self.on_end()

    def close(self) -> None:
        self.window.close()
        self.runner.shutdown()
        self.app.close()


def build_desk(app: App, actor: Actor, settings: QSettings | None = None,
               runner: TaskRunner | None = None) -> Desk:
    return Desk(app, runner or TaskRunner(), settings or user_settings(), actor)


def keep_event_loop_responsive() -> None:
    """Keep the GIL from stalling the event loop: short full collections, quick hand-overs.

    A full (generation 2) collection walks every tracked object: with Qt, SQLAlchemy, pyqtgraph
    and the country tables loaded that is 90 to 220 ms, and when a worker triggers one during
    an export it holds the GIL (and so freezes the window) for that long. Everything alive once
    the window is built lives until exit, so it is moved out of the collector's sight
    (``gc.freeze``); later full collections only walk what was made since.
    """
    gc.collect()
    gc.freeze()
    # PySide6 releases the GIL around calls into Qt, so the GUI thread re-acquires it many
    # times per event; with a busy worker each re-acquisition can wait a whole switch
    # interval (5 ms by default). A 1 ms interval keeps the window answering during exports
    # at a small cost in worker throughput (measured in docs/performance/gui.md).
    sys.setswitchinterval(0.001)


def demo_database_url() -> str:
    return f"sqlite:///{user_data_dir() / DEMO_DB_NAME}"


def prepare_demo_database(url: str) -> App:
    """Create (as a demo database), migrate and seed the demo database on first start; reuse
    it afterwards."""
    from billing_desk.database import upgrade
    from billing_desk.services.demo import DemoService, SeedOptions, create_demo_database

    # The desk's configuration, checked before the demo database is touched, with the demo
    # database and the sandbox gateways in place of its own; the voucher code key stays, so
    # the seed's sample codes redeem at this desk.
    settings = load_settings()
    path = Path(url.removeprefix("sqlite:///"))
    first = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    if first:
        create_demo_database(url, by="billing-desk gui --demo")
    else:
        upgrade(url)  # also brings an older demo database up to date
    app = build_app(replace(settings, database_url=url, gateways=_demo_gateways()))
    if first:
        DemoService(app.uow).seed(SeedOptions(customers=300, seed=1, voucher_key=app.voucher_key))
    return app


def _demo_gateways() -> dict[str, dict[str, object]]:
    """Start the local gateway sandbox in the background and point every gateway at it, so a
    demo top-up can be paid (open the checkout link, click Pay) and seen to settle."""
    global _SANDBOX
    try:
        from billing_desk.sandbox import demo_gateway_settings, start_sandbox
    except ImportError:
        return {}
    try:
        _SANDBOX = start_sandbox()
    except OSError:  # the desk still opens; top-ups will say the gateway is unavailable
        log.exception("Could not start the local gateway sandbox")
        return {}
    return dict(demo_gateway_settings(_SANDBOX.url))


_SANDBOX: Any = None


def _login(app: App, runner: TaskRunner, settings: QSettings) -> Actor | None:
    dialog = LoginDialog(app, runner, app.database.url, str(settings.value("login/last_user", "") or ""))
    if dialog.exec() != LoginDialog.DialogCode.Accepted or dialog.actor is None:
        return None
    settings.setValue("login/last_user", dialog.actor.name)
    return dialog.actor


def run_gui(demo: bool = False) -> int:
    """Run the desk until its window closes; the exit code. A domain error before the window
    opens (no database, an old schema) is shown in a box and raised on to `billing-desk gui`."""
    if not has_display():
        sys.stderr.write(NO_DISPLAY)
        return 1
    qt = QApplication.instance() or QApplication(sys.argv[:1])
    qt.setApplicationName("Billing Desk")
    qt.setWindowIcon(QIcon(str(resource_path("icons", "app.svg"))))
    apply_look(qt)
    runner = TaskRunner()
    settings = user_settings()
    try:
        if demo:
            from billing_desk.services.demo import DEMO_PASSWORD
            app = prepare_demo_database(demo_database_url())
            actor: Actor | None = app.staff.authenticate("manager", DEMO_PASSWORD)
        else:
            app = build_app(load_settings())
            actor = _login(app, runner, settings)
    except BillingDeskError as exc:
        QMessageBox.critical(None, "Billing Desk", error_message(exc))
        runner.shutdown()
        raise  # the command line prints it too (with its own hint, such as the command to run) and exits
    if actor is None:
        runner.shutdown()
        app.close()
        return 0
    desk = build_desk(app, actor, settings, runner)
    desk.on_end = qt.quit
    keep_event_loop_responsive()  # once per process, after everything long-lived exists
    desk.window.show()
    code = qt.exec()
    desk.close()
    if _SANDBOX is not None:
        _SANDBOX.stop()
    return int(code)
