"""The audit log's filter bar: staff member, action, customer (account or id) and a range of
local days. A change waits for a short pause, then ``changed(AuditFilters)``; a mistake (a
range that ends before it starts, an unknown customer the service reports) shows beside it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.errors import ValidationError
from billing_desk.services.audit import AuditFilters
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import set_style_flag, tr

PAUSE_MS = 300


class AuditFilterBar(QWidget):
    changed = Signal(object)  # AuditFilters

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditFilters")
        self.staff_combo = QComboBox()
        self.staff_combo.setObjectName("auditStaff")
        self.staff_combo.setToolTip(tr("Only what this staff member did"))
        self.action_combo = QComboBox()
        self.action_combo.setObjectName("auditAction")
        self.action_combo.setMinimumWidth(180)
        self.set_choices(self.staff_combo, tr("Anyone"), [])
        self.set_choices(self.action_combo, tr("Any action"), [])
        self.customer_edit = QLineEdit()
        self.customer_edit.setObjectName("auditCustomer")
        self.customer_edit.setPlaceholderText(tr("Customer account or id"))
        self.customer_edit.setClearButtonEnabled(True)
        self.customer_edit.setMinimumWidth(150)
        today = QDate.currentDate()
        self.from_check, self.from_date = QCheckBox(tr("From")), self._date_edit(today.addDays(-30))
        self.to_check, self.to_date = QCheckBox(tr("To")), self._date_edit(today)
        self.clear_button = QPushButton(tr("Clear"))
        self.clear_button.setToolTip(tr("Show every row again (Esc)"))
        self.error_label = QLabel()
        self.error_label.setObjectName("fieldError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self._timer = QTimer(self, singleShot=True, interval=PAUSE_MS)
        self._timer.timeout.connect(self.apply)
        self._quiet = False
        row = QHBoxLayout()
        for widget in (self.staff_combo, self.action_combo, self.customer_edit, self.from_check, self.from_date,
                       self.to_check, self.to_date):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        for combo in (self.staff_combo, self.action_combo):
            combo.currentIndexChanged.connect(self._later)
        self.customer_edit.textChanged.connect(self._later)
        self.customer_edit.returnPressed.connect(self.apply)
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._later)
            edit.dateChanged.connect(lambda _d, c=check: c.isChecked() and self._later())
        self.clear_button.clicked.connect(self.clear)

    @staticmethod
    def _date_edit(day: QDate) -> QDateEdit:
        edit = QDateEdit(day)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        return edit

    def set_choices(self, combo: QComboBox, everything: str, values: Sequence[str]) -> None:
        """Refill a combo, keeping the choice made if it is still there."""
        current = combo.currentData()
        self._quiet = True
        combo.clear()
        combo.addItem(everything, None)
        for value in values:
            combo.addItem(value, value)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        self._quiet = False

    def set_staff(self, names: Sequence[str]) -> None:
        self.set_choices(self.staff_combo, tr("Anyone"), names)

    def set_actions(self, actions: Sequence[str]) -> None:
        self.set_choices(self.action_combo, tr("Any action"), actions)

    def current(self) -> AuditFilters:
        first = self.from_date.date().toPython() if self.from_check.isChecked() else None
        last = self.to_date.date().toPython() if self.to_check.isChecked() else None
        if first and last and last < first:
            raise ValidationError(tr("The range ends before it starts: choose a To day on or after the From day."),
                                  field="to")
        return AuditFilters(staff=self.staff_combo.currentData(), action=self.action_combo.currentData(),
                            customer=self.customer_edit.text().strip() or None, first_day=first, last_day=last)

    def _later(self, *_args: object) -> None:
        if not self._quiet:
            self._timer.start()

    def pending(self) -> bool:
        return self._timer.isActive()

    def apply(self) -> None:
        self._timer.stop()
        try:
            filters = self.current()
        except ValidationError as exc:
            self.show_problem(exc)
            return
        self.show_problem(None)
        self.changed.emit(filters)

    def show_problem(self, error: BaseException | None) -> None:
        field = getattr(error, "field", None)
        set_style_flag(self.customer_edit, "invalid", field == "customer" or type(error).__name__ == "NotFound")
        self.error_label.setText(error_message(error) if error is not None else "")
        self.error_label.setVisible(error is not None)

    def clear(self) -> None:
        self._quiet = True
        self.staff_combo.setCurrentIndex(0)
        self.action_combo.setCurrentIndex(0)
        self.customer_edit.clear()
        self.from_check.setChecked(False)
        self.to_check.setChecked(False)
        self._quiet = False
        self.apply()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            return
        super().keyPressEvent(event)
