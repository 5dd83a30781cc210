"""The billing profile form (personal or company, name, email, address, country, tax code)
with an error line beside each field. Shared by the Settings tab and the Add credit dialog.

The form only collects and shows; the service validates. A domain error that names a field
is shown beside that field.
"""

from __future__ import annotations

import pycountry
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from billing_desk.domain.errors import BillingDeskError
from billing_desk.services.customers import CustomerDTO
from billing_desk.views.formatting import tr

FIELDS = ("billing_type", "name", "email", "address", "country", "tax_code")
# Services name fields by their own words; some differ from the form's keys.
FIELD_ALIASES = {"type": "billing_type"}


def country_items() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda p: p[1])


class ProfileForm(QWidget):
    country_changed = Signal(str)
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.type_combo = QComboBox()
        self.type_combo.addItem(tr("Personal"), "personal")
        self.type_combo.addItem(tr("Company"), "company")
        self.name_edit = QLineEdit()
        self.email_edit = QLineEdit()
        self.address_edit = QLineEdit()
        self.country_combo = QComboBox()
        self.country_combo.setEditable(False)
        for code, name in country_items():
            self.country_combo.addItem(f"{name} ({code})", code)
        self.tax_edit = QLineEdit()
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label, widget in (
            ("billing_type", tr("Billing type"), self.type_combo), ("name", tr("Name"), self.name_edit),
            ("email", tr("Email"), self.email_edit), ("address", tr("Address"), self.address_edit),
            ("country", tr("Country"), self.country_combo), ("tax_code", tr("Tax code"), self.tax_edit),
        ):
            error = QLabel()
            error.setObjectName("fieldError")
            error.setWordWrap(True)
            error.hide()
            self.errors[key] = error
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(error)
            form.addRow(label, column)
        self._form = form
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        self.type_combo.currentIndexChanged.connect(self._on_type_changed)
        self.country_combo.currentIndexChanged.connect(
            lambda _i: self.country_changed.emit(self.country_combo.currentData() or ""))
        for edit in (self.name_edit, self.email_edit, self.address_edit, self.tax_edit):
            edit.textEdited.connect(lambda _t: self.edited.emit())
        self._on_type_changed()

    def add_row(self, label: str, field: QWidget, error: QLabel) -> None:
        """Another field under the profile's, aligned with them (Add credit's currency)."""
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(field)
        column.addWidget(error)
        self._form.addRow(label, column)

    def _on_type_changed(self) -> None:
        company = self.type_combo.currentData() == "company"
        self.tax_edit.setPlaceholderText(tr("required for a company") if company else tr("optional"))
        self.name_edit.setPlaceholderText(tr("company name") if company else tr("full name"))

    def load(self, customer: CustomerDTO) -> None:
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(customer.billing_type)))
        self.name_edit.setText(customer.name)
        self.email_edit.setText(customer.email)
        self.address_edit.setText(customer.address or "")
        self.country_combo.setCurrentIndex(max(0, self.country_combo.findData(customer.country)))
        self.tax_edit.setText(customer.tax_code or "")
        self.clear_errors()

    def values(self) -> dict[str, str]:
        return {
            "billing_type": str(self.type_combo.currentData()), "name": self.name_edit.text(),
            "email": self.email_edit.text(), "address": self.address_edit.text(),
            "country": str(self.country_combo.currentData()), "tax_code": self.tax_edit.text(),
        }

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()

    def show_error(self, error: BillingDeskError) -> bool:
        """Put the message beside its field; False when the error names no field of this form."""
        key = FIELD_ALIASES.get(error.field or "", error.field or "")
        label = self.errors.get(key)
        if label is None:
            return False
        label.setText(error.message)
        label.show()
        return True
