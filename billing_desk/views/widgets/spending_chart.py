"""Daily spending per service over the last 90 days: a pyqtgraph line per service, a legend,
and the values of the day under the mouse.

Amounts stay integer minor units until drawn: the plot needs floats for its coordinates
only, and the hover text is formatted from the exact integers.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from billing_desk.domain.money import CURRENCIES, Money
from billing_desk.services.ledger import DailySpending
from billing_desk.views.formatting import money_text, tr

PALETTE = ("#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626")


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
        # One curve per service, kept across customers and reloads: creating a curve and its
        # legend entry costs 3 to 4 ms in the GUI thread, updating its data a tenth of that.
        self._curves: dict[str, pg.PlotDataItem] = {}
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def show_spending(self, data: DailySpending) -> None:
        self.data = data
        scale = CURRENCIES[data.currency].scale if data.currency else 1  # no currency: no spending either
        last = len(data.days) - 1
        self._xs = [float(i) for i in range(last + 1)]
        self.plot.getAxis("bottom").setTicks([
            [(float(i), d.strftime("%b %d")) for i, d in enumerate(data.days) if i % 14 == 0 or i == last],
            [(float(i), "") for i, d in enumerate(data.days) if d.weekday() == 0],
        ])
        names = [s.service for s in data.services]
        for gone in [n for n in self._curves if n not in names]:
            self.plot.removeItem(self._curves.pop(gone))  # also leaves the legend
        for i, series in enumerate(data.services):
            ys = [v / scale for v in series.per_day]  # floats for drawing only
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=2)
            curve = self._curves.get(series.service)
            if curve is None:
                self._curves[series.service] = self.plot.plot(self._xs, ys, pen=pen, name=series.service)
            else:
                curve.setData(self._xs, ys)
                curve.setPen(pen)
        if list(self._curves) != names:  # a new service came before an old one: legend back in name order
            self.legend.clear()
            for name in names:
                self.legend.addItem(self._curves[name], name)
            self._curves = {n: self._curves[n] for n in names}
        self.plot.setLabel("left", tr("Spent per day ({code})").format(code=data.currency or "—"))
        self.hover_label.setText(tr("Hover over the chart to see a day's spending.") if names
                                 else tr("No usage in the last 90 days."))

    def day_text(self, index: int) -> str:
        data = self.data
        if data is None or not 0 <= index < len(data.days):
            return ""
        parts = [f"{s.service} {money_text(Money(s.per_day[index], data.currency))}" for s in data.services
                 if s.per_day[index] and data.currency]
        day = data.days[index].isoformat()
        if not parts:
            return tr("{day}: no spending").format(day=day)
        return tr("{day}: {spending}").format(day=day, spending=", ".join(parts))

    def _on_mouse_moved(self, pos: object) -> None:
        if not self._xs or not self.plot.sceneBoundingRect().contains(pos):  # type: ignore[arg-type]
            return
        x = self.plot.plotItem.vb.mapSceneToView(pos).x()
        index = min(range(len(self._xs)), key=lambda i: abs(self._xs[i] - x))
        self.hover_label.setText(self.day_text(index))
