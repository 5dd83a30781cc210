"""Add credit dialog, as in the customer guide: billing settings first when the profile is
incomplete (or no currency is chosen yet), then the amount and gateway, then Confirm, then
the checkout link and the payment followed until it settles.

The dialog is as tall as the step it shows (a stacked widget is as tall as its tallest page, which
left the amount step half empty), and Enter confirms a valid amount as the Confirm button does."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.errors import BillingDeskError
from billing_desk.domain.topup_limits import TopUpLimits
from billing_desk.services.customers import CustomerDTO
from billing_desk.services.payments import TopUpResult
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import add_currency_items, tr
from billing_desk.views.widgets.payment_follow import PaymentFollow
from billing_desk.views.widgets.profile_form import ProfileForm
from billing_desk.views.widgets.topup_amount import TopUpAmount

PROFILE, AMOUNT, FOLLOW = range(3)


class AddCreditDialog(QDialog):
    def __init__(self, ctx: ViewContext, customer: CustomerDTO, parent: QWidget | None = None,
                 poll_ms: int | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("addCreditDialog")
        self.setWindowTitle(tr("Add credit — {name} ({account})").format(name=customer.name,
                                                                         account=customer.account))
        self.ctx, self.customer = ctx, customer
        self.amount: TopUpAmount | None = None
        self.pages = QStackedWidget()
        self.pages.addWidget(self._profile_page())
        self.amount_holder = QWidget()
        QVBoxLayout(self.amount_holder).setContentsMargins(0, 0, 0, 0)
        self.pages.addWidget(self.amount_holder)
        self.follow = PaymentFollow(ctx, **({"poll_ms": poll_ms} if poll_ms else {}))
        self.pages.addWidget(self.follow)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        self.next_button = QPushButton(tr("Continue"))
        self.next_button.setObjectName("primaryButton")
        self.next_button.setDefault(True)  # Enter in the amount field confirms, when Confirm is enabled
        self.next_button.clicked.connect(self._on_next)
        self.close_button = QPushButton(tr("Cancel"))
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addLayout(buttons)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)  # the size of the step shown, always
        self.setMinimumWidth(560)
        self.pages.currentChanged.connect(self._fit_to_page)
        self.finished.connect(lambda _r: self.follow.stop())
        if customer.profile_missing or customer.currency is None:
            self.form.load(customer)
            self._offer_currencies(customer.country)
            self.pages.setCurrentIndex(PROFILE)
            self._fit_to_page(PROFILE)
        else:
            self._load_limits()

    def _fit_to_page(self, index: int) -> None:
        for i in range(self.pages.count()):
            shown = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            self.pages.widget(i).setSizePolicy(shown, shown)
        self.pages.updateGeometry()
        self.adjustSize()

    # --- step 1: billing settings -----------------------------------------------------------
    def _profile_page(self) -> QWidget:
        page = QWidget()
        self.form = ProfileForm()
        self.currency_combo = QComboBox()
        self.currency_error = QLabel()
        self.currency_error.setObjectName("fieldError")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(tr("Billing settings come first: complete the billing information and choose the "
                          "currency. Once selected, the currency cannot be changed later."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        self.form.add_row(tr("Currency"), self.currency_combo, self.currency_error)  # aligned with the fields
        layout.addStretch(1)
        self.form.country_changed.connect(self._offer_currencies)
        return page

    def _offer_currencies(self, country: str) -> None:
        self.currency_combo.clear()
        if self.customer.currency:
            self.currency_combo.addItem(self.customer.currency, self.customer.currency)
            self.currency_combo.setEnabled(False)
            return
        add_currency_items(self.currency_combo, self.ctx.app.customers.currencies_for(country))

    def _save_profile(self) -> None:
        self.form.clear_errors()
        self.currency_error.clear()
        values, code = self.form.values(), self.currency_combo.currentData()
        customers, actor, cid = self.ctx.app.customers, self.ctx.actor, self.customer.id

        def save() -> CustomerDTO:
            updated = customers.update(actor, cid, **values)
            return customers.set_currency(actor, cid, code) if updated.currency is None else updated

        self._busy(tr("Saving the billing settings…"))
        self.ctx.write(save, lambda c: Changes.for_customer(c.id, profile=True), self._on_profile_saved
                       ).failure(self._on_profile_failed).run()

    def _on_profile_saved(self, customer: CustomerDTO) -> None:
        self.customer = customer
        self._load_limits()

    def _on_profile_failed(self, error: BaseException) -> None:
        self._idle("")
        if isinstance(error, BillingDeskError) and error.field == "currency":
            self.currency_error.setText(error.message)
        elif not (isinstance(error, BillingDeskError) and self.form.show_error(error)):
            show_error(self, error)

    # --- step 2: amount ---------------------------------------------------------------------
    def _load_limits(self) -> None:
        payments, actor, cid = self.ctx.app.payments, self.ctx.actor, self.customer.id
        self._busy(tr("Loading the top-up options…"))
        self.ctx.query(lambda: payments.limits(actor, cid), self._show_amount).failure(self._on_failed).run()

    def _show_amount(self, limits: TopUpLimits) -> None:
        self.amount = TopUpAmount(limits)
        self.amount.validity_changed.connect(self.next_button.setEnabled)
        self.amount_holder.layout().addWidget(self.amount)
        self.pages.setCurrentIndex(AMOUNT)
        self._idle("")
        self.next_button.setText(tr("Confirm"))
        self.next_button.setEnabled(False)
        self.amount.custom_edit.setFocus()

    def _confirm(self) -> None:
        if self.amount is None or self.amount.amount is None:
            return
        payments, actor, cid, money = self.ctx.app.payments, self.ctx.actor, self.customer.id, self.amount.amount
        self._busy(tr("Creating the payment with the gateway…"))
        self.ctx.write(lambda: payments.create_topup(actor, cid, money),
                       lambda r: Changes.for_customer(cid, payments=True), self._on_created, gateway=True
                       ).failure(self._on_failed).run()

    # --- step 3: follow ---------------------------------------------------------------------
    def _on_created(self, result: TopUpResult) -> None:
        self.pages.setCurrentIndex(FOLLOW)
        self.follow.start(result)
        self._idle("")
        self.next_button.hide()
        self.close_button.setText(tr("Close"))

    def _on_next(self) -> None:
        if self.pages.currentIndex() == PROFILE:
            self._save_profile()
        elif self.pages.currentIndex() == AMOUNT:
            self._confirm()

    def _on_failed(self, error: BaseException) -> None:
        self._idle("")
        if isinstance(error, BillingDeskError):
            self.message.setText(error.message)
        else:
            show_error(self, error)

    def _busy(self, text: str) -> None:
        self.message.setText(text)
        self.next_button.setEnabled(False)

    def _idle(self, text: str) -> None:
        self.message.setText(text)
        self.next_button.setEnabled(self.pages.currentIndex() == PROFILE or bool(self.amount and self.amount.amount))


def open_add_credit(parent: QWidget, ctx: ViewContext, customer: CustomerDTO) -> AddCreditDialog:
    dialog = AddCreditDialog(ctx, customer, parent)
    dialog.open()
    return dialog
