"""A progress bar with its Cancel button, for one long operation at a time (an export, a
reconcile run): ``start()`` hands out the reporter and the cancel token to give the task,
``finish()`` hides both again. Wide enough for its longest text, so it is never cut off."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from billing_desk.views.formatting import tr
from billing_desk.views.tasks import CancelToken, Progress


class TaskProgress(QWidget):
    def __init__(self, describe: Callable[[int, int], str], widest: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.describe = describe
        self.bar = QProgressBar()
        self.bar.setMinimumWidth(self.bar.fontMetrics().horizontalAdvance(widest) + 48)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        self.token: CancelToken | None = None
        self._progress: Progress | None = None
        self.hide()

    @property
    def busy(self) -> bool:
        return self.token is not None

    def start(self, starting: str, describe: Callable[[int, int], str] | None = None) -> tuple[Progress, CancelToken]:
        """Busy (no figures of the last run) until the task reports its own total."""
        if describe is not None:
            self.describe = describe
        self.token, self._progress = CancelToken(), Progress(self)
        self._progress.changed.connect(self._on_progress)
        self.bar.setRange(0, 0)
        self.bar.setValue(0)
        self.bar.setFormat(starting)
        self.cancel_button.setEnabled(True)
        self.show()
        return self._progress, self.token

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(self.describe(done, total))

    def cancel(self) -> None:
        if self.token is not None:
            self.token.cancel()
            self.cancel_button.setEnabled(False)

    def finish(self) -> None:
        self.hide()
        self.token = None
        if self._progress is not None:  # one reporter per run, not one per run kept for ever
            self._progress.deleteLater()
            self._progress = None
