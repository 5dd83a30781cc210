"""Settings tab: the billing profile, the billing currency (chosen once, then locked) and
the display currency preference."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.errors import BillingDeskError
from billing_desk.domain.money import CURRENCIES
from billing_desk.domain.permissions import Permission
from billing_desk.services.customers import CustomerDTO
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import add_currency_items, tr
from billing_desk.views.widgets.customer_header import role_tooltip
from billing_desk.views.widgets.profile_form import ProfileForm


class SettingsTab(CustomerTab):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.form = ProfileForm()
        self.save_button = QPushButton(tr("Save billing details"))
        self.save_button.setObjectName("primaryButton")
        self.save_button.clicked.connect(self.save)
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.currency_combo = QComboBox()
        self.currency_locked = QLabel()
        self.currency_locked.setObjectName("lockedCurrency")
        self.currency_button = QPushButton(tr("Choose this currency"))
        self.currency_button.clicked.connect(self.choose_currency)
        self.display_combo = QComboBox()
        self.display_combo.addItem(tr("Same as billing currency"), None)
        add_currency_items(self.display_combo, ("VND", "JPY", "USD", "EUR"))
        self.display_button = QPushButton(tr("Save display preference"))
        self.display_button.clicked.connect(self.save_display)
        self._build()
        self.form.country_changed.connect(self._offer_currencies)
        self._apply_roles()

    def _build(self) -> None:
        profile = QGroupBox(tr("Billing information"))
        pl = QVBoxLayout(profile)
        pl.addWidget(self.form)
        row = QHBoxLayout()
        row.addWidget(self.status_label, 1)
        row.addWidget(self.save_button)
        pl.addLayout(row)
        currency = QGroupBox(tr("Billing currency"))
        cl = QVBoxLayout(currency)
        rule = QLabel(tr("Vietnam bills in VND, Japan in JPY, other countries in a PayPal currency. "
                         "Once chosen, the currency cannot be changed."))
        rule.setWordWrap(True)
        cl.addWidget(rule)
        choose = QHBoxLayout()
        choose.addWidget(self.currency_combo, 1)
        choose.addWidget(self.currency_button)
        cl.addLayout(choose)
        cl.addWidget(self.currency_locked)
        display = QGroupBox(tr("Display preferences"))
        dl = QHBoxLayout(display)
        dl.addWidget(QLabel(tr("Show amounts to the customer in")))
        dl.addWidget(self.display_combo, 1)
        dl.addWidget(self.display_button)
        content = QWidget()
        content.setMaximumWidth(820)  # a form stretched over a wide screen is hard to read
        layout = QVBoxLayout(content)
        layout.addWidget(profile)
        layout.addWidget(currency)
        layout.addWidget(display)
        layout.addStretch(1)
        self.set_content(content, tr("Find a customer with the search box above (Ctrl+K) to see their "
                                     "billing profile, currency and display preferences here."), scroll=True)

    def _apply_roles(self) -> None:
        allowed = self.ctx.can(Permission.CUSTOMER_WRITE)
        for button in (self.save_button, self.currency_button, self.display_button):
            button.setEnabled(allowed)
            button.setToolTip(role_tooltip(self.ctx.actor, Permission.CUSTOMER_WRITE, ""))

    reload_on_refreshed_customer = True

    def wants(self, changes: Changes) -> bool:
        return False  # the main window re-reads the customer and hands it over

    def customer_changed(self, same_customer: bool) -> None:
        if not same_customer:
            self.status_label.clear()

    def reload(self) -> None:
        customer = self.customer
        if customer is None:
            return
        self.form.load(customer)
        self._show_currency(customer)
        index = self.display_combo.findData(customer.display_currency)
        self.display_combo.setCurrentIndex(max(0, index))

    def _show_currency(self, customer: CustomerDTO) -> None:
        locked = customer.currency is not None
        self.currency_combo.setVisible(not locked)
        self.currency_button.setVisible(not locked)
        self.currency_locked.setText(
            tr("{code} — {name}. Locked: a chosen currency can never change.").format(
                code=customer.currency, name=CURRENCIES[customer.currency].name) if locked
            else tr("Not chosen yet: the customer chooses before the first top-up."))
        if not locked:
            self._offer_currencies(customer.country)

    def _offer_currencies(self, country: str) -> None:
        if self.customer is None or self.customer.currency is not None or not country:
            return
        self.currency_combo.clear()
        add_currency_items(self.currency_combo, self.ctx.app.customers.currencies_for(country))

    def save(self) -> None:
        customer = self.customer
        if customer is None:
            return
        self.form.clear_errors()
        values = self.form.values()
        service, actor = self.ctx.app.customers, self.ctx.actor
        self.save_button.setEnabled(False)
        self.status_label.setText(tr("Saving…"))
        self.ctx.write(lambda: service.update(actor, customer.id, **values),
                       lambda c: Changes.for_customer(c.id, profile=True), self._on_saved,
                       initiator=self).failure(self._on_save_failed).run()

    def _on_saved(self, customer: CustomerDTO) -> None:
        self.save_button.setEnabled(True)
        self.status_label.setText(tr("Saved."))

    def _on_save_failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.status_label.setText(tr("Not saved: fix the field marked in red."))
        if not (isinstance(error, BillingDeskError) and self.form.show_error(error)):
            self.status_label.setText(tr("Not saved."))
            show_error(self, error)

    def choose_currency(self) -> None:
        customer, code = self.customer, self.currency_combo.currentData()
        if customer is None or not code:
            return
        service, actor = self.ctx.app.customers, self.ctx.actor
        self.ctx.write(lambda: service.set_currency(actor, customer.id, code),
                       lambda c: Changes.for_customer(c.id, profile=True)
                       ).failure(lambda e: show_error(self, e)).run()

    def save_display(self) -> None:
        customer, code = self.customer, self.display_combo.currentData()
        if customer is None:
            return
        service, actor = self.ctx.app.customers, self.ctx.actor
        self.ctx.write(lambda: service.set_display_currency(actor, customer.id, code),
                       lambda c: Changes.for_customer(c.id, profile=True),
                       lambda _c: self.status_label.setText(tr("Display preference saved."))
                       ).failure(lambda e: show_error(self, e)).run()
