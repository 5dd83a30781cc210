"""The Credit History filter bar: service, status, kind, date range and description text.

Emits ``changed(HistoryFilter)`` once per change; typing in the description waits for a
short pause so every keystroke does not re-query a million rows.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QLineEdit, QPushButton, QWidget

from billing_desk.domain.enums import EntryStatus, LedgerKind
from billing_desk.services.ledger import HistoryFilter, ServiceDTO
from billing_desk.views.formatting import tr
from billing_desk.views.table_models.credit_history_model import KIND_LABELS

TEXT_PAUSE_MS = 300


class HistoryFilterBar(QWidget):
    changed = Signal(object)  # HistoryFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service_combo = QComboBox()
        self.service_combo.addItem(tr("All services"), None)
        self.status_combo = QComboBox()
        self.status_combo.addItem(tr("Any status"), None)
        self.status_combo.addItem(tr("Success"), EntryStatus.SUCCESS)
        self.status_combo.addItem(tr("Failed"), EntryStatus.FAILED)
        self.kind_combo = QComboBox()
        self.kind_combo.addItem(tr("Any kind"), None)
        for kind in LedgerKind:
            self.kind_combo.addItem(tr(KIND_LABELS.get(kind.value, kind.value)), kind)
        today = QDate.currentDate()
        self.from_check, self.from_date = QCheckBox(tr("From")), self._date_edit(today.addDays(-30))
        self.to_check, self.to_date = QCheckBox(tr("To")), self._date_edit(today)
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText(tr("Description contains…"))
        self.text_edit.setClearButtonEnabled(True)
        self.clear_button = QPushButton(tr("Clear filters"))
        self._timer = QTimer(self, singleShot=True, interval=TEXT_PAUSE_MS)
        self._timer.timeout.connect(self._emit)
        self._quiet = False
        self._layout()
        self._wire()

    def _date_edit(self, day: QDate) -> QDateEdit:
        edit = QDateEdit(day)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        return edit

    def _layout(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.service_combo, self.status_combo, self.kind_combo, self.from_check, self.from_date,
                       self.to_check, self.to_date):
            row.addWidget(widget)
        row.addWidget(self.text_edit, 1)
        row.addWidget(self.clear_button)

    def _wire(self) -> None:
        for combo in (self.service_combo, self.status_combo, self.kind_combo):
            combo.currentIndexChanged.connect(self._emit)
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._emit)
            edit.dateChanged.connect(lambda _d, c=check: c.isChecked() and self._emit())
        self.text_edit.textChanged.connect(lambda _t: self._timer.start())
        self.text_edit.returnPressed.connect(self._emit)
        self.clear_button.clicked.connect(self.clear)

    def set_services(self, services: list[ServiceDTO]) -> None:
        current = self.service_combo.currentData()
        self._quiet = True
        self.service_combo.clear()
        self.service_combo.addItem(tr("All services"), None)
        for service in services:
            self.service_combo.addItem(service.name, service.name)
        self.service_combo.setCurrentIndex(max(0, self.service_combo.findData(current)))
        self._quiet = False

    def current(self) -> HistoryFilter:
        service, status, kind = (self.service_combo.currentData(), self.status_combo.currentData(),
                                 self.kind_combo.currentData())
        return HistoryFilter(
            services=(service,) if service else (),
            # combo data comes back as plain str: turn it into the enum again
            statuses=(EntryStatus(status),) if status else (), kinds=(LedgerKind(kind),) if kind else (),
            date_from=self.from_date.date().toPython() if self.from_check.isChecked() else None,
            date_to=self.to_date.date().toPython() if self.to_check.isChecked() else None,
            text=self.text_edit.text().strip() or None,
        )

    def clear(self) -> None:
        self.reset()
        self._emit()

    def reset(self) -> None:
        """Back to "everything", without announcing it (another customer opens)."""
        self._quiet = True
        for combo in (self.service_combo, self.status_combo, self.kind_combo):
            combo.setCurrentIndex(0)
        self.from_check.setChecked(False)
        self.to_check.setChecked(False)
        self.text_edit.clear()
        self._timer.stop()
        self._quiet = False

    def _emit(self) -> None:
        self._timer.stop()
        if not self._quiet:
            self.changed.emit(self.current())

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            return
        super().keyPressEvent(event)
