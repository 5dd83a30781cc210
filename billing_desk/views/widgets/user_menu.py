"""The staff member's menu in the window's top right: who is logged in, Change password, Log out,
Quit. The window decides what each does; this only shows the choices."""

from __future__ import annotations

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from billing_desk.domain.permissions import Actor
from billing_desk.views.formatting import tr


class UserMenu(QToolButton):
    change_password_requested = Signal()
    log_out_requested = Signal()
    quit_requested = Signal()

    def __init__(self, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staffLabel")
        self.setText(tr("{name} · {role}").format(name=actor.name, role=actor.role.value.title()))
        self.setToolTip(tr("Logged in as {name}: change password, log out").format(name=actor.name))
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        menu.setObjectName("userMenu")
        self.change_password_action = self._action(menu, tr("Change password…"), self.change_password_requested)
        menu.addSeparator()
        self.log_out_action = self._action(menu, tr("Log out"), self.log_out_requested)
        # The key is only shown ("\t" text): the window owns Ctrl+Q so it works wherever focus is.
        self.quit_action = self._action(menu, tr("Quit\t{key}").format(key="Ctrl+Q"), self.quit_requested)
        self.setMenu(menu)

    @staticmethod
    def _action(menu: QMenu, text: str, signal: SignalInstance) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(signal.emit)
        return action
