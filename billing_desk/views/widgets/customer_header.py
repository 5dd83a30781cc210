"""The customer header, as the customer sees it in the guide: who, and the Total Balance,
with Add credit and Add voucher at hand."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from billing_desk.domain.countries import country_name
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.services.customers import CustomerDTO
from billing_desk.views.formatting import money_text, set_style_flag, tabular_font, tr


def role_tooltip(actor: Actor, permission: Permission, allowed: str) -> str:
    if actor.can(permission):
        return allowed
    return tr("Your role ({role}) may not {what}; ask a manager.").format(role=actor.role.value, what=permission.value)


class CustomerHeader(QFrame):
    add_credit_requested = Signal()
    add_voucher_requested = Signal()
    balance_clicked = Signal()

    def __init__(self, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customerHeader")
        self._actor = actor
        self.customer: CustomerDTO | None = None
        self.name_label = QLabel(tr("No customer open"))
        self.name_label.setObjectName("customerName")
        self.details_label = QLabel(tr("Search by account number, name, email, company, tax code, "
                                       "payment reference or a voucher's last four characters."))
        self.details_label.setObjectName("customerDetails")
        # Wrapped, not one line: unwrapped, the longest text set the window's minimum width
        # (1,017 px, more than a 1024-px screen leaves).
        for label in (self.name_label, self.details_label):
            label.setWordWrap(True)
        self.balance_caption = QLabel(tr("Total Balance"))
        self.balance_caption.setObjectName("balanceCaption")
        self.balance_label = QPushButton("—")
        self.balance_label.setObjectName("balanceValue")
        self.balance_label.setFlat(True)
        self.balance_label.setFont(tabular_font(self.balance_label.font()))
        self.balance_label.setCursor(Qt.CursorShape.PointingHandCursor)
        self.balance_label.clicked.connect(self.balance_clicked)
        self.add_credit_button = QPushButton(tr("Add credit"))
        self.add_credit_button.setObjectName("primaryButton")
        self.add_voucher_button = QPushButton(tr("Add voucher"))
        self.add_credit_button.clicked.connect(self.add_credit_requested)
        self.add_voucher_button.clicked.connect(self.add_voucher_requested)
        self._layout()
        self.set_customer(None)

    def _layout(self) -> None:
        who = QVBoxLayout()
        who.addWidget(self.name_label)
        who.addWidget(self.details_label)
        money = QGridLayout()
        money.addWidget(self.balance_caption, 0, 0, Qt.AlignmentFlag.AlignRight)
        money.addWidget(self.balance_label, 1, 0, Qt.AlignmentFlag.AlignRight)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_credit_button)
        buttons.addWidget(self.add_voucher_button)
        row = QHBoxLayout(self)
        row.addLayout(who, 1)
        row.addLayout(money)
        row.addSpacing(12)
        row.addLayout(buttons)

    def set_customer(self, customer: CustomerDTO | None) -> None:
        self.customer = customer
        if customer is None:
            self.balance_label.setText("—")
        else:
            self.name_label.setText(customer.name)
            kind = tr("Company") if customer.billing_type == "company" else tr("Personal")
            currency = customer.currency or tr("currency not chosen yet")
            self.details_label.setText(f"{customer.account}  ·  {kind}  ·  {country_name(customer.country)}"
                                       f" ({customer.country})  ·  {currency}")
            total = customer.balance.total if customer.balance else None
            self.balance_label.setText(money_text(total))
            set_style_flag(self.balance_label, "negative", bool(total and total.minor < 0))
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.customer is not None
        for button, permission, text in (
            (self.add_credit_button, Permission.TOPUP_CREATE, tr("Top up this customer's balance (Ctrl+T)")),
            (self.add_voucher_button, Permission.VOUCHER_REDEEM, tr("Apply a voucher code (Ctrl+U)")),
        ):
            allowed = self._actor.can(permission)
            button.setEnabled(has and allowed)
            tip = role_tooltip(self._actor, permission, text)
            if allowed and not has:
                tip = tr("Open a customer first.")
            button.setToolTip(tip)
