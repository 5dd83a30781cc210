"""The codes just issued, shown once: they exist nowhere else (the database keeps only a keyed
hash and the last four characters), so the dialog says so, offers Copy and Export (.csv or
.xlsx, through the service's formula-safe writer, audited), and asks before closing while the
codes were neither copied nor exported.

The list is a model over the tuple of codes (uniform item sizes, laid out in batches), so
100,000 codes appear at once without a copy into Qt and without a stall of the event loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QCloseEvent, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desk.services.vouchers import IssuedVouchers
from billing_desk.views.context import ViewContext
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import local_time, money_text, tr


class CodeListModel(QAbstractListModel):
    def __init__(self, codes: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._codes = codes

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._codes)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            return self._codes[index.row()]
        return None


def summary_text(issued: IssuedVouchers) -> str:
    parts = [tr("{n} codes of {amount}, total face value {total}").format(
        n=f"{len(issued.codes):,}", amount=money_text(issued.amount), total=money_text(issued.face_value))]
    if issued.campaign:
        parts.append(tr("campaign “{name}”").format(name=issued.campaign))
    if issued.valid_until:
        parts.append(tr("they expire at {when}").format(when=local_time(issued.valid_until)))
    return "; ".join(parts) + "."


class IssuedCodesDialog(QDialog):
    def __init__(self, ctx: ViewContext, issued: IssuedVouchers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("issuedCodesDialog")
        self.setWindowTitle(tr("Voucher codes — shown only now"))
        self.ctx = ctx
        self.issued = issued
        self.saved = False  # copied or exported: closing needs no question
        self.confirm_box: QMessageBox | None = None
        warning = QLabel(tr("These codes cannot be shown again: Billing Desk keeps only their last four "
                            "characters. Copy them or export them to a file before you close this window."))
        warning.setObjectName("codesWarning")
        warning.setWordWrap(True)
        self.summary = QLabel(summary_text(issued))
        self.summary.setWordWrap(True)
        self.list = QListView()
        self.list.setObjectName("issuedCodesList")
        self.list.setUniformItemSizes(True)
        # Laid out in batches between events: in one pass, 100,000 rows held the window 230 ms.
        self.list.setLayoutMode(QListView.LayoutMode.Batched)
        self.list.setBatchSize(2000)
        self.list.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))  # 0/O, 1/I read apart
        self.list.setModel(CodeListModel(issued.codes, self))
        self.copy_button = QPushButton(tr("Copy all"))
        self.export_button = QPushButton(tr("Export…"))
        self.close_button = QPushButton(tr("Close"))
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        self.copy_button.clicked.connect(self.copy_codes)
        self.export_button.clicked.connect(self.ask_export)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        for b in (self.copy_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(warning)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self.resize(520, 480)

    def copy_codes(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(self.issued.codes) + "\n")
        self.saved = True
        self.status_label.setText(tr("{n} codes copied to the clipboard.").format(n=f"{len(self.issued.codes):,}"))

    def ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Export voucher codes"), str(Path.home() / "vouchers.xlsx"),
                                              tr("Excel workbook (*.xlsx);;CSV file (*.csv)"))
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """Write the codes to a new file in the task runner (100,000 codes take seconds)."""
        self.export_button.setEnabled(False)
        self.status_label.setText(tr("Exporting {n} codes…").format(n=f"{len(self.issued.codes):,}"))
        vouchers, actor, issued = self.ctx.app.vouchers, self.ctx.actor, self.issued
        self.ctx.query(lambda: vouchers.export_codes(actor, issued, path), lambda n: self._on_exported(n, path),
                       long=True).failure(self._on_export_failed).run()

    def _on_exported(self, count: int, path: str) -> None:
        self.saved = True
        self.export_button.setEnabled(True)
        self.status_label.setText(tr("{n} codes exported to {path}.").format(n=f"{count:,}", path=path))

    def _on_export_failed(self, error: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.status_label.setText(error_message(error))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.saved:
            super().closeEvent(event)
            return
        event.ignore()
        self._ask_close()

    def reject(self) -> None:  # Escape and Close: the same question as closing the window
        if self.saved:
            super().reject()
        else:
            self._ask_close()

    def _ask_close(self) -> None:
        if self.confirm_box is not None and self.confirm_box.isVisible():
            return
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Close without the codes?"),
                          tr("The codes were neither copied nor exported, and they cannot be shown again. "
                             "Close anyway?"),
                          QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("discardCodesBox")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Close).clicked.connect(self._discard)
        self.confirm_box = box
        box.open()

    def _discard(self) -> None:
        self.saved = True  # the person chose to lose them
        self.reject()
