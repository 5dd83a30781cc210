"""Add or edit a plan: code, name, rank, features and one monthly price per currency.

Each price is parsed as typed by domain/money's ``parse_money`` in its own currency (VND and JPY
take no decimals, USD and EUR two), and the reason for a refusal stands beside that field. Save
writes nothing while any field is refused; the plans service validates again and audits the
write, and a refusal it names a field for is shown beside that field too.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import Money, amount_examples, currency, format_plain, parse_money
from billing_desk.services.plans import PlanRow
from billing_desk.views.context import ViewContext
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import tr
from billing_desk.views.widgets.form_fields import field_error

# Offered in every form, beside any other currency a plan is already priced in.
DEFAULT_CURRENCIES = ("VND", "JPY", "USD", "EUR")


def ordered_currencies(codes: Iterable[str]) -> list[str]:
    """The default currencies in their order first, then any other alphabetically."""
    return sorted(set(codes), key=lambda c: (DEFAULT_CURRENCIES.index(c) if c in DEFAULT_CURRENCIES
                                            else len(DEFAULT_CURRENCIES), c))


class PriceField:
    """One currency's price: the line edit and the reason beside it."""

    def __init__(self, code: str, old: Money | None) -> None:
        self.code, self.old = code, old
        self.edit = QLineEdit(format_plain(old.minor, code) if old else "")
        self.edit.setObjectName(f"price{code}")
        self.edit.setFixedWidth(150)
        self.edit.setPlaceholderText(tr("not offered") if old is None else "")
        self.edit.setToolTip(tr("Monthly price in {name}, e.g. {examples}").format(
            name=currency(code).name, examples=amount_examples(code)))
        self.error = field_error(f"price{code}Error")
        self.edit.textChanged.connect(lambda _t: self.check())

    def value(self) -> Money | None:
        """The price typed (None: left empty); raises ValidationError saying what to fix."""
        text = self.edit.text().strip()
        if not text:
            if self.old is not None:
                raise ValidationError(tr("The plan has a {code} price; it can be changed but not removed.").format(
                    code=self.code))
            return None
        return parse_money(text, self.code)

    def check(self) -> bool:
        try:
            self.value()
        except ValidationError as refused:
            self.error.setText(refused.message)
            return False
        self.error.clear()
        return True


class PlanFormDialog(QDialog):
    saved = Signal(object)  # the PlanRow written
    refused = Signal(str)  # why Save wrote nothing

    def __init__(self, ctx: ViewContext, plan: PlanRow | None, currencies: Iterable[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("planFormDialog")
        self.ctx, self.plan = ctx, plan
        self.setWindowTitle(tr("Edit plan {code}").format(code=plan.code) if plan else tr("Add a plan"))
        self.code_edit = QLineEdit(plan.code if plan else "")
        self.code_edit.setObjectName("planCode")
        self.code_edit.setReadOnly(plan is not None)  # the code is how customers and the CLI name a plan
        self.code_edit.setPlaceholderText(tr("e.g. pro"))
        self.name_edit = QLineEdit(plan.name if plan else "")
        self.name_edit.setObjectName("planName")
        self.rank_spin = QSpinBox()
        self.rank_spin.setObjectName("planRank")
        self.rank_spin.setRange(-1000, 1000)
        self.rank_spin.setValue(plan.rank if plan else 0)
        self.rank_spin.setMaximumWidth(120)
        self.rank_spin.setToolTip(tr("Orders plans from cheapest to richest; a higher rank is an upgrade"))
        self.features_edit = QPlainTextEdit("\n".join(plan.features) if plan else "")
        self.features_edit.setObjectName("planFeatures")
        self.features_edit.setPlaceholderText(tr("One feature a line"))
        self.features_edit.setFixedHeight(90)
        self.errors = {key: field_error(f"{key}Error") for key in ("code", "name", "rank", "features")}
        codes = ordered_currencies([*DEFAULT_CURRENCIES, *currencies, *(plan.prices if plan else ())])
        self.prices = {c: PriceField(c, plan.prices.get(c) if plan else None) for c in codes}
        self.message = field_error("formError")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self._lay_out()
        self.setMinimumWidth(720)
        self.resize(720, 640)

    def _lay_out(self) -> None:
        form = QFormLayout()
        for label, edit, key in ((tr("Code"), self.code_edit, "code"), (tr("Name"), self.name_edit, "name"),
                                 (tr("Rank"), self.rank_spin, "rank"), (tr("Features"), self.features_edit,
                                                                         "features")):
            form.addRow(label, edit)
            form.addRow("", self.errors[key])
        rows = QWidget()
        grid = QGridLayout(rows)
        for row, field in enumerate(self.prices.values()):
            grid.addWidget(QLabel(field.code), row, 0)
            grid.addWidget(field.edit, row, 1)
            grid.addWidget(field.error, row, 2)
        grid.setColumnStretch(2, 1)
        grid.setRowStretch(len(self.prices), 1)
        # A catalog priced in every currency has 25 rows: they scroll rather than outgrow the screen.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(rows)
        scroll.viewport().setAutoFillBackground(False)  # the group box's colour, not a grey well
        rows.setAutoFillBackground(False)
        scroll.setMinimumHeight(min(len(self.prices), 6) * 38)
        prices = QGroupBox(tr("Monthly prices"))
        QVBoxLayout(prices).addWidget(scroll)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(prices)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _typed_prices(self) -> dict[str, Money] | None:
        """The prices as typed, or None (each refusal shown beside its field)."""
        ok = all([field.check() for field in self.prices.values()])  # a list: check every field
        if not ok:
            return None
        typed = {c: m for c, f in self.prices.items() if (m := f.value()) is not None}
        if not typed:
            first = next(iter(self.prices.values()))
            first.error.setText(tr("Give the plan at least one monthly price."))
            return None
        return typed

    def submit(self) -> None:
        for label in (*self.errors.values(), self.message):
            label.clear()
        prices = self._typed_prices()
        if prices is None:
            self._refuse(tr("Correct the prices marked above; nothing was saved."))
            return
        plans, actor, plan = self.ctx.app.plans, self.ctx.actor, self.plan
        code, name, rank = self.code_edit.text(), self.name_edit.text(), self.rank_spin.value()
        features = [line for line in self.features_edit.toPlainText().splitlines() if line.strip()]
        if plan is None:
            def op() -> PlanRow:
                return plans.add_plan(actor, code=code, name=name, prices=prices, features=features, rank=rank)
        else:
            changed = {c: m for c, m in prices.items() if plan.prices.get(c) != m}

            def op() -> PlanRow:
                return plans.edit_plan(actor, plan.code, name=name, prices=changed, features=features, rank=rank)
        self.save_button.setEnabled(False)
        self.ctx.write(op, lambda _row: Changes(plans=True), self._on_saved).failure(self._on_failed).run()

    def _on_saved(self, row: PlanRow) -> None:
        self.saved.emit(row)
        self.accept()

    def _on_failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        text = error_message(error)
        field = getattr(error, "field", None) or ""
        if field in self.errors:
            self.errors[field].setText(text)
        elif field == "prices":
            next(iter(self.prices.values())).error.setText(text)
        else:
            self.message.setText(text)
        self.refused.emit(text)

    def _refuse(self, text: str) -> None:
        self.message.setText(text)
        self.refused.emit(text)
