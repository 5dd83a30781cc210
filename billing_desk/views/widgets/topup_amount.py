"""Choosing a top-up amount: predefined amounts, a custom amount checked as it is typed
against the currency's minimum and maximum, the gateway with the cards it accepts, and the
non-refundable notice."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QGroupBox, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import CURRENCIES, Money, amount_examples, format_plain, parse_money
from billing_desk.domain.topup_limits import TopUpLimits
from billing_desk.views.formatting import money_text, tabular_font, tr

CARDS_ACCEPTED = {
    PaymentMethod.VNPAY: "Supports domestic ATM cards, banking apps and credit cards "
                         "(Visa, Mastercard, JCB, UnionPay).",
    PaymentMethod.STRIPE: "Accepts major international cards (Visa, Mastercard, JCB, American Express).",
    PaymentMethod.PAYPAL: "Secure international payments with a PayPal balance or linked cards.",
}


class TopUpAmount(QWidget):
    validity_changed = Signal(bool)

    def __init__(self, limits: TopUpLimits, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.limits = limits
        self.amount: Money | None = None
        self.presets = QButtonGroup(self)
        grid = QGridLayout()
        for i, preset in enumerate(limits.presets):
            button = QPushButton(money_text(preset))
            button.setCheckable(True)
            button.setFont(tabular_font(button.font()))
            self.presets.addButton(button, i)
            grid.addWidget(button, i // 3, i % 3)
        self.presets.idClicked.connect(self._on_preset)
        self.custom_edit = QLineEdit()
        self.custom_edit.setObjectName("customAmount")
        self.custom_edit.setPlaceholderText(tr("Custom amount in {code}, such as {example}").format(
            code=limits.currency, example=amount_examples(limits.currency)))
        self.custom_edit.textEdited.connect(self._on_typed)
        self.minimum_label = QLabel(tr("Minimum {min}, maximum {max} per top-up.").format(
            min=money_text(limits.minimum), max=money_text(limits.maximum)))
        self.error_label = QLabel()
        self.error_label.setObjectName("fieldError")
        name, cards = limits.method.label, CARDS_ACCEPTED.get(limits.method, "")
        gateway = QGroupBox(tr("Pay with {gateway} ({currency})").format(
            gateway=name, currency=CURRENCIES[limits.currency].name))
        gl = QVBoxLayout(gateway)
        self.cards_label = QLabel(tr(cards))
        self.cards_label.setWordWrap(True)
        gl.addWidget(self.cards_label)
        self.notice_label = QLabel(tr("Review the amount, then Confirm. By continuing, you agree that credits "
                                      "purchased are non-refundable."))
        self.notice_label.setWordWrap(True)
        self.notice_label.setObjectName("statusLabel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(tr("Choose an amount")))
        layout.addLayout(grid)
        layout.addWidget(self.custom_edit)
        layout.addWidget(self.minimum_label)
        layout.addWidget(self.error_label)
        layout.addWidget(gateway)
        layout.addWidget(self.notice_label)

    def _on_preset(self, index: int) -> None:
        preset = self.limits.presets[index]
        self.custom_edit.setText(format_plain(preset.minor, preset.currency))
        self._set(preset, "")

    def _on_typed(self, text: str) -> None:
        checked = self.presets.checkedButton()
        if checked is not None:  # typing replaces the preset choice
            self.presets.setExclusive(False)
            checked.setChecked(False)
            self.presets.setExclusive(True)
        if not text.strip():
            self._set(None, "")
            return
        try:
            amount = parse_money(text, self.limits.currency)
        except ValidationError as exc:
            self._set(None, exc.message)
            return
        if amount < self.limits.minimum:
            self._set(None, tr("The minimum top-up is {min}.").format(min=money_text(self.limits.minimum)))
        elif amount > self.limits.maximum:
            self._set(None, tr("The maximum top-up is {max}.").format(max=money_text(self.limits.maximum)))
        else:
            self._set(amount, "")

    def _set(self, amount: Money | None, error: str) -> None:
        self.amount = amount
        self.error_label.setText(error)
        self.validity_changed.emit(amount is not None)
