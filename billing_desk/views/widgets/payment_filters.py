"""The payments review filter bar: status, reason, gateway, currency, local-day range, amount
range, staff member, customer, and one box for a payment id or gateway reference.

Every change restarts one short timer, and ``changed(PaymentFilters)`` is emitted when it runs
out, so typing "declined" or a reference queries once, not per keystroke. What can be checked
here is checked here, and a mistake is shown beside the bar with no query at all: an amount is
parsed by ``domain.money.parse_money`` in the chosen currency; a reference needs 8 characters.
An error the service finds (an unknown customer account) is shown in the same place.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from billing_desk.domain.dates import day_range_utc
from billing_desk.domain.enums import PaymentMethod, PaymentStatus
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import CURRENCIES, Money, parse_money
from billing_desk.services.payments import MIN_REFERENCE_PART, PaymentFilters
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import set_style_flag, tr
from billing_desk.views.table_models.payment_model import status_label

PAUSE_MS = 300


class PaymentFilterBar(QWidget):
    changed = Signal(object)  # PaymentFilters, only when every field reads well

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentFilters")
        self.status_combo = self._combo(tr("Any status"), [(status_label(s.value), s.value) for s in
                                                           (PaymentStatus.SUCCESS, PaymentStatus.PENDING,
                                                            PaymentStatus.FAILED)])
        self.method_combo = self._combo(tr("Any gateway"), [(m.label, m.value) for m in PaymentMethod])
        self.currency_combo = self._combo(tr("Any currency"), [(code, code) for code in sorted(CURRENCIES)])
        self.staff_combo = self._combo(tr("Anyone"), [])
        self.staff_combo.setToolTip(tr("The staff member who started the payment"))
        self.reason_edit = self._edit(tr("Reason contains…"), 120)
        self.min_edit = self._edit(tr("Min amount"), 90)
        self.max_edit = self._edit(tr("Max amount"), 90)
        for edit in (self.min_edit, self.max_edit):
            edit.setToolTip(tr("In the chosen currency, e.g. 500,000 or 25.50"))
        self.customer_edit = self._edit(tr("Customer account"), 110)
        self.text_edit = self._edit(tr("Payment id or gateway reference"), 160)
        today = QDate.currentDate()
        self.from_check, self.from_date = QCheckBox(tr("From")), self._date_edit(today.addDays(-30))
        self.to_check, self.to_date = QCheckBox(tr("To")), self._date_edit(today)
        self.clear_button = QPushButton(tr("Clear"))
        self.clear_button.setToolTip(tr("Show every payment again (Esc)"))
        self.error_label = QLabel()
        self.error_label.setObjectName("fieldError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self._timer = QTimer(self, singleShot=True, interval=PAUSE_MS)
        self._timer.timeout.connect(self.apply)
        self._quiet = False
        self._layout()
        self._wire()

    @staticmethod
    def _combo(everything: str, items: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        combo.addItem(everything, None)
        for text, data in items:
            combo.addItem(text, data)
        return combo

    @staticmethod
    def _edit(placeholder: str, width: int) -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        edit.setMinimumWidth(width)
        return edit

    @staticmethod
    def _date_edit(day: QDate) -> QDateEdit:
        edit = QDateEdit(day)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        return edit

    def _layout(self) -> None:
        # Two rows: one row of eleven fields would hold the window wider than its 917-px minimum.
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        first = QHBoxLayout()
        for widget in (self.status_combo, self.method_combo, self.currency_combo):
            first.addWidget(widget)
        first.addWidget(self.reason_edit, 1)
        for widget in (self.from_check, self.from_date, self.to_check, self.to_date):
            first.addWidget(widget)
        second = QHBoxLayout()
        second.addWidget(self.min_edit)
        second.addWidget(QLabel("–"))
        second.addWidget(self.max_edit)
        second.addWidget(self.staff_combo)
        second.addWidget(self.customer_edit)
        second.addWidget(self.text_edit, 1)
        second.addWidget(self.clear_button)
        grid.addLayout(first, 0, 0)
        grid.addLayout(second, 1, 0)
        grid.addWidget(self.error_label, 2, 0)

    def _wire(self) -> None:
        for combo in (self.status_combo, self.method_combo, self.currency_combo, self.staff_combo):
            combo.currentIndexChanged.connect(self._later)
        for edit in (self.reason_edit, self.min_edit, self.max_edit, self.customer_edit, self.text_edit):
            edit.textChanged.connect(self._later)
            edit.returnPressed.connect(self.apply)
        for check, date_edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.toggled.connect(date_edit.setEnabled)
            check.toggled.connect(self._later)
            date_edit.dateChanged.connect(lambda _d, c=check: c.isChecked() and self._later())
        self.clear_button.clicked.connect(self.clear)

    def set_staff(self, staff: tuple[tuple[int, str], ...]) -> None:
        current = self.staff_combo.currentData()
        self._quiet = True
        self.staff_combo.clear()
        self.staff_combo.addItem(tr("Anyone"), None)
        for staff_id, name in staff:
            self.staff_combo.addItem(name, staff_id)
        self.staff_combo.setCurrentIndex(max(0, self.staff_combo.findData(current)))
        self._quiet = False

    # --- reading the fields ---------------------------------------------------------------
    def current(self) -> PaymentFilters:
        """The filter the fields say; raises ValidationError (with ``field``) for a mistake."""
        currency = self.currency_combo.currentData()
        created_from, created_to = day_range_utc(
            self.from_date.date().toPython() if self.from_check.isChecked() else None,
            self.to_date.date().toPython() if self.to_check.isChecked() else None)
        text = self.text_edit.text().strip()
        if text and not text.isdigit() and len(text) < MIN_REFERENCE_PART:
            raise ValidationError(tr("Type a payment id (digits) or at least {n} characters of the gateway "
                                     "reference.").format(n=MIN_REFERENCE_PART), field="text")
        staff = self.staff_combo.currentData()
        return PaymentFilters(
            customer=self.customer_edit.text().strip() or None, status=self.status_combo.currentData(),
            method=self.method_combo.currentData(), created_from=created_from, created_to=created_to,
            reason=self.reason_edit.text().strip() or None, currency=currency,
            amount_min=self._amount(self.min_edit, currency, "min"),
            amount_max=self._amount(self.max_edit, currency, "max"),
            staff_id=int(staff) if staff is not None else None, text=text or None)

    def _amount(self, edit: QLineEdit, currency: str | None, field: str) -> Money | None:
        text = edit.text().strip()
        if not text:
            return None
        if currency is None:
            raise ValidationError(tr("Choose a currency to filter by amount."), field=field)
        try:
            return parse_money(text, currency)
        except ValidationError as exc:
            raise ValidationError(exc.message, field=field) from None

    # --- applying -------------------------------------------------------------------------
    def _later(self, *_args: object) -> None:
        if not self._quiet:
            self._timer.start()

    def apply(self) -> None:
        """Emit the filter now (Enter, or the pause after a change), or show what to fix."""
        self._timer.stop()
        try:
            filters = self.current()
        except ValidationError as exc:
            self.show_problem(exc)
            return
        self.show_problem(None)
        self.changed.emit(filters)

    def show_problem(self, error: BaseException | None) -> None:
        """A mistake in the filter, beside the fields; the offending field is marked too."""
        field = getattr(error, "field", None)
        marks = {"min": self.min_edit, "max": self.max_edit, "text": self.text_edit,
                 "customer": self.customer_edit, "reason": self.reason_edit}
        for name, edit in marks.items():
            set_style_flag(edit, "invalid", name == field)
        self.error_label.setText(error_message(error) if error is not None else "")
        self.error_label.setVisible(error is not None)

    def pending(self) -> bool:
        """A change is waiting for its pause to end (tests wait for it)."""
        return self._timer.isActive()

    def clear(self) -> None:
        self._quiet = True
        for combo in (self.status_combo, self.method_combo, self.currency_combo, self.staff_combo):
            combo.setCurrentIndex(0)
        for edit in (self.reason_edit, self.min_edit, self.max_edit, self.customer_edit, self.text_edit):
            edit.clear()
        self.from_check.setChecked(False)
        self.to_check.setChecked(False)
        self._quiet = False
        self.apply()

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            return
        super().keyPressEvent(event)
