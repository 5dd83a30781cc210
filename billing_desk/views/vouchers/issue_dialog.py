"""Issue vouchers: one code or a batch, with the total face value shown before Confirm.

Every change of a field asks the service's own ``preview_issue`` (pure validation and
arithmetic, no database, so it runs on the GUI thread as the person types) and shows its
reason beside the field it names; Confirm is enabled only for a request the service accepts.
The issue runs in the task runner with progress and Cancel; the service rolls a cancelled
batch back whole, so Cancel leaves no code. On success ``issued`` carries the plain codes,
which the caller shows once (``IssuedCodesDialog``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.dates import local_zone
from billing_desk.domain.errors import BillingDeskError, Cancelled, ValidationError
from billing_desk.domain.money import CURRENCIES, amount_examples, parse_money
from billing_desk.services.vouchers import (
    MAX_BATCH,
    MAX_CREDIT_DAYS,
    MAX_REDEMPTIONS,
    IssuedVouchers,
    IssuePreview,
    IssueRequest,
)
from billing_desk.views.context import ViewContext
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import add_currency_items, money_text, tr
from billing_desk.views.widgets.task_progress import TaskProgress


def _optional_date(label: str) -> tuple[QCheckBox, QDateEdit]:
    check = QCheckBox(label)
    edit = QDateEdit(QDate.currentDate())
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setEnabled(False)
    check.toggled.connect(edit.setEnabled)
    return check, edit


def _day_start(edit: QDateEdit, days_after: int = 0) -> datetime:
    """The start of the chosen local day (or of a day after it), as the UTC instant the service keeps."""
    d = edit.date().addDays(days_after).toPython()
    return datetime.combine(d, time.min, tzinfo=local_zone()).astimezone(UTC)


class IssueVouchersDialog(QDialog):
    issued_codes = Signal(object)  # IssuedVouchers

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("issueVouchersDialog")
        self.setWindowTitle(tr("Issue vouchers"))
        self.ctx = ctx
        self.issued: IssuedVouchers | None = None
        self.preview: IssuePreview | None = None
        self.errors: dict[str, QLabel] = {}
        self.campaign_edit = QLineEdit()
        self.campaign_edit.setPlaceholderText(tr("e.g. Spring 2027 newsletter (a batch without one gets a dated name)"))
        self.amount_edit = QLineEdit()
        self.currency_combo = QComboBox()
        add_currency_items(self.currency_combo, sorted(CURRENCIES))
        self.count_spin = self._spin(1, MAX_BATCH, 1)
        self.from_check, self.from_edit = _optional_date(tr("Not before"))
        self.until_check, self.until_edit = _optional_date(tr("Usable through"))
        self.until_edit.setDate(QDate.currentDate().addMonths(3))
        self.max_spin = self._spin(1, MAX_REDEMPTIONS, 1)
        self.credit_check = QCheckBox(tr("Granted credit expires after"))
        self.credit_spin = self._spin(1, MAX_CREDIT_DAYS, 90)
        self.credit_spin.setSuffix(tr(" days"))
        self.credit_spin.setEnabled(False)
        self.credit_check.toggled.connect(self.credit_spin.setEnabled)
        self.total_label = QLabel()
        self.total_label.setObjectName("issueTotal")
        self.total_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        self.progress = TaskProgress(self._describe, tr("Issuing codes: 100,000 of 100,000"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = QPushButton(tr("Confirm and issue"))
        self.confirm_button.setObjectName("confirmIssueButton")
        self.buttons.addButton(self.confirm_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.clicked.connect(self.confirm)
        self.buttons.rejected.connect(self.reject)
        self._layout()
        for edit in (self.campaign_edit, self.amount_edit):
            edit.textChanged.connect(self.validate)
        for spin in (self.count_spin, self.max_spin, self.credit_spin):
            spin.valueChanged.connect(self.validate)
        for check in (self.from_check, self.until_check, self.credit_check):
            check.toggled.connect(self.validate)
        for date_edit in (self.from_edit, self.until_edit):
            date_edit.dateChanged.connect(self.validate)
        self.currency_combo.currentIndexChanged.connect(self.validate)
        self.resize(560, 0)
        self.validate()

    @staticmethod
    def _spin(low: int, high: int, value: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setGroupSeparatorShown(True)
        return spin

    def _error_label(self, field: str) -> QLabel:
        label = QLabel()
        label.setObjectName("fieldError")
        label.setWordWrap(True)
        label.hide()
        self.errors[field] = label
        return label

    def _row(self, form: QFormLayout, title: str, field: str, *widgets: QWidget) -> None:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        for w in widgets:
            row.addWidget(w)
        row.addWidget(self._error_label(field), 1)
        form.addRow(title, box)

    def _layout(self) -> None:
        form = QFormLayout()
        self._row(form, tr("Campaign"), "campaign", self.campaign_edit)
        self._row(form, tr("Amount per code"), "amount", self.amount_edit, self.currency_combo)
        self._row(form, tr("Number of codes"), "count", self.count_spin)
        self._row(form, tr("Valid from"), "valid_from", self.from_check, self.from_edit)
        self._row(form, tr("Valid until"), "valid_until", self.until_check, self.until_edit)
        self._row(form, tr("Redemptions per code"), "max_redemptions", self.max_spin)
        self._row(form, tr("Credit"), "credit_days", self.credit_check, self.credit_spin)
        self.errors["currency"] = self.errors["amount"]  # the currency sits beside the amount
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.total_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)

    # --- validation ----------------------------------------------------------------------------
    def currency(self) -> str:
        return str(self.currency_combo.currentData() or self.currency_combo.currentText())

    def request(self) -> IssueRequest:
        """The request as typed; raises the amount's ValidationError (field "amount") if it does not parse."""
        text = self.amount_edit.text().strip()
        if not text:
            raise ValidationError(tr("Enter the amount of each code, e.g. {example}.").format(
                example=amount_examples(self.currency())), field="amount")
        return IssueRequest(
            amount=parse_money(text, self.currency()), count=self.count_spin.value(),
            campaign=self.campaign_edit.text().strip() or None,
            valid_from=_day_start(self.from_edit) if self.from_check.isChecked() else None,
            valid_until=_day_start(self.until_edit, 1) if self.until_check.isChecked() else None,
            max_redemptions=self.max_spin.value(),
            credit_days=self.credit_spin.value() if self.credit_check.isChecked() else None)

    def validate(self) -> IssuePreview | None:
        for label in self.errors.values():
            label.hide()
        try:
            # preview_issue is the service's validation and arithmetic, with no database: cheap
            # enough for every keystroke on the GUI thread, and the one copy of the rules.
            self.preview = self.ctx.app.vouchers.preview_issue(self.ctx.actor, self.request())
        except ValidationError as exc:
            self.preview = None
            label = self.errors.get(exc.field or "", self.errors["amount"])
            label.setText(exc.message)
            label.show()
            self.total_label.setText(tr("Total face value: —"))
        else:
            self.total_label.setText(self._total_text(self.preview))
        self.confirm_button.setEnabled(self.preview is not None and not self.progress.busy)
        return self.preview

    @staticmethod
    def _total_text(p: IssuePreview) -> str:
        figures = {"count": f"{p.count:,}", "amount": money_text(p.amount), "total": money_text(p.face_value),
                   "most": money_text(p.max_credit), "n": f"{p.max_redemptions:,}"}
        if p.max_redemptions > 1:
            return tr("Total face value: {count} × {amount} = {total} (at most {most} if every code is used "
                      "{n} times)").format(**figures)
        return tr("Total face value: {count} × {amount} = {total}").format(**figures)

    def field_error(self, field: str) -> str:
        label = self.errors[field]
        return label.text() if not label.isHidden() else ""

    # --- issuing -------------------------------------------------------------------------------
    def _describe(self, done: int, total: int) -> str:
        count = total // 2
        if done <= count:
            return tr("Preparing codes: {done} of {count}").format(done=f"{done:,}", count=f"{count:,}")
        return tr("Issuing codes: {done} of {count}").format(done=f"{done - count:,}", count=f"{count:,}")

    def confirm(self) -> None:
        if self.validate() is None or self.progress.busy:
            return
        request = self.request()
        progress, token = self.progress.start(tr("Preparing codes…"))
        self._set_editing(False)
        self.status_label.clear()
        vouchers, actor = self.ctx.app.vouchers, self.ctx.actor
        self.ctx.write(lambda: vouchers.issue(actor, request, progress, token), lambda _r: Changes(vouchers=True),
                       self._on_issued, initiator=self).failure(self._on_failed).run()

    def _set_editing(self, enabled: bool) -> None:
        for w in (self.campaign_edit, self.amount_edit, self.currency_combo, self.count_spin, self.from_check,
                  self.until_check, self.max_spin, self.credit_check):
            w.setEnabled(enabled)
        self.from_edit.setEnabled(enabled and self.from_check.isChecked())
        self.until_edit.setEnabled(enabled and self.until_check.isChecked())
        self.credit_spin.setEnabled(enabled and self.credit_check.isChecked())
        self.confirm_button.setEnabled(enabled and self.preview is not None)

    def _on_issued(self, issued: IssuedVouchers) -> None:
        self.progress.finish()
        self.issued = issued
        self.issued_codes.emit(issued)
        self.accept()

    def _on_failed(self, error: BaseException) -> None:
        self.progress.finish()
        self._set_editing(True)
        if isinstance(error, Cancelled):
            self.status_label.setText(tr("Cancelled: no code was issued."))
        elif isinstance(error, BillingDeskError):
            self.status_label.setText(error_message(error))
        else:
            self.ctx.runner.default_failure(error)

    def reject(self) -> None:
        """Cancel while issuing stops the batch (nothing is issued); the dialog closes when it has stopped."""
        if self.progress.busy:
            self.progress.cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.progress.busy:
            self.progress.cancel()
            event.ignore()
            return
        super().closeEvent(event)

