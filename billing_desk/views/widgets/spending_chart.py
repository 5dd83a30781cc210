"""Daily spending per service over the last 90 days: a pyqtgraph line per service, a legend,
and the values of the day under the mouse.

Amounts stay integer minor units until drawn: the plot needs floats for its coordinates
only, and the hover text is formatted from the exact integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from billing_desk.domain.money import CURRENCIES, Money
from billing_desk.views.formatting import money_text, tr

PALETTE = ("#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626")


@dataclass(frozen=True, slots=True)
class DailySpending:
    """Spending (positive minor units) per service per local day, oldest day first."""

    currency: str
    days: tuple[date, ...]
    by_service: dict[str, tuple[int, ...]]
    rows_read: int
    capped: bool


class SpendingChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # No antialiasing, no grid and fixed day ticks: antialiased 2-px lines took 200 ms a
        # repaint in software rendering, the date axis and a translucent grid 15 ms each.
        pg.setConfigOptions(antialias=False, background="w", foreground="#374151")
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # show 600, not "(x0.001)"
        self.legend = self.plot.addLegend(offset=(10, 5))
        self.hover_label = QLabel(tr("Hover over the chart to see a day's spending."))
        self.hover_label.setObjectName("statusLabel")
        self.hover_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hover_label)
        self.data: DailySpending | None = None
        self._xs: list[float] = []
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def show_spending(self, data: DailySpending) -> None:
        self.data = data
        self.plot.clear()
        self.legend.clear()
        scale = CURRENCIES[data.currency].scale
        last = len(data.days) - 1
        self._xs = [float(i) for i in range(last + 1)]
        self.plot.getAxis("bottom").setTicks([
            [(float(i), d.strftime("%b %d")) for i, d in enumerate(data.days) if i % 14 == 0 or i == last],
            [(float(i), "") for i, d in enumerate(data.days) if d.weekday() == 0],
        ])
        for i, (service, values) in enumerate(sorted(data.by_service.items())):
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=2)
            self.plot.plot(self._xs, [v / scale for v in values], pen=pen, name=service)  # drawing only
        self.plot.setLabel("left", tr("Spent per day ({code})").format(code=data.currency))
        if not data.by_service:
            self.hover_label.setText(tr("No usage in the last 90 days."))
        elif data.capped:
            self.hover_label.setText(tr("Showing the most recent {n} usage rows of the period.").format(
                n=f"{data.rows_read:,}"))

    def day_text(self, index: int) -> str:
        data = self.data
        if data is None or not 0 <= index < len(data.days):
            return ""
        parts = [f"{s} {money_text(Money(v[index], data.currency))}" for s, v in sorted(data.by_service.items())
                 if v[index]]
        return f"{data.days[index].isoformat()}: " + (", ".join(parts) if parts else tr("no spending"))

    def _on_mouse_moved(self, pos: object) -> None:
        if not self._xs or not self.plot.sceneBoundingRect().contains(pos):  # type: ignore[arg-type]
            return
        x = self.plot.plotItem.vb.mapSceneToView(pos).x()
        index = min(range(len(self._xs)), key=lambda i: abs(self._xs[i] - x))
        self.hover_label.setText(self.day_text(index))
