"""Daily spending per service over the last 90 days: a pyqtgraph line per service, a legend
above the plot (never over the lines), and the values of the day under the mouse.

Plan charges are left out unless asked for: an upgrade's charge is one day many times a
usual day's usage, and drawn with the rest it flattens the daily pattern to a line at zero.

Amounts stay integer minor units until drawn: the plot needs floats for its coordinates
only, and the hover text is formatted from the exact integers.
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from billing_desk.domain.money import CURRENCIES, Money
from billing_desk.services.ledger import DailySpending, ServiceSpending
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
        self.plot.setMinimumHeight(80)  # with the rest of the Overview, the window fits a 700-px screen
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # show 600, not "(x0.001)"
        self.unit = ""
        self.legend = QLabel()
        self.legend.setObjectName("chartLegend")
        self.legend.setWordWrap(True)
        self.plan_charges = QCheckBox(tr("Include plan charges"))
        self.plan_charges.setToolTip(tr("An upgrade's charge is one large day; without it the daily usage is "
                                        "easier to read."))
        self.plan_charges.toggled.connect(self._redraw)
        self.hover_label = QLabel(tr("Hover over the chart to see a day's spending."))
        self.hover_label.setObjectName("statusLabel")
        self.hover_label.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(self.legend, 1)
        header.addWidget(self.plan_charges)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hover_label)
        self.data: DailySpending | None = None
        self._xs: list[float] = []
        # One curve per service, kept across customers and reloads: creating a curve costs a
        # few milliseconds in the GUI thread, updating its data a tenth of that.
        self._curves: dict[str, pg.PlotDataItem] = {}
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def show_spending(self, data: DailySpending) -> None:
        self.data = data
        last = len(data.days) - 1
        self._xs = [float(i) for i in range(last + 1)]
        self.plot.getAxis("bottom").setTicks([
            # every second week counted back from today, so today's label never meets another
            [(float(i), d.strftime("%b %d")) for i, d in enumerate(data.days) if (last - i) % 14 == 0],
            [(float(i), "") for i, d in enumerate(data.days) if d.weekday() == 0],
        ])
        self.plan_charges.setVisible(any(s.plan_charges for s in data.services))
        self._redraw()

    def shown(self) -> list[ServiceSpending]:
        """The series drawn: every service's usage, and the plan charges if asked for."""
        if self.data is None:
            return []
        return [s for s in self.data.services if not s.plan_charges or self.plan_charges.isChecked()]

    def legend_names(self) -> list[str]:
        return [s.service for s in self.shown()]

    def _redraw(self) -> None:
        data = self.data
        if data is None:
            return
        scale = CURRENCIES[data.currency].scale if data.currency else 1  # no currency: no spending either
        series = self.shown()
        names = [s.service for s in series]
        for gone in [n for n in self._curves if n not in names]:
            self.plot.removeItem(self._curves.pop(gone))
        entries = []
        for i, s in enumerate(series):
            colour = PALETTE[i % len(PALETTE)]
            ys = [v / scale for v in s.per_day]  # floats for drawing only
            curve = self._curves.get(s.service)
            if curve is None:
                self._curves[s.service] = self.plot.plot(self._xs, ys, pen=pg.mkPen(colour, width=2))
            else:
                curve.setData(self._xs, ys)
                curve.setPen(pg.mkPen(colour, width=2))
            entries.append(f'<span style="color:{colour}">&#9632;</span>&nbsp;{html.escape(s.service)}')
        self._curves = {n: self._curves[n] for n in names}
        # The unit leads the legend: a vertical axis title was cut off when the chart is short.
        self.unit = tr("Spent per day in {code}:").format(code=data.currency) if data.currency else ""
        self.legend.setText("&nbsp;&nbsp; ".join([f"<b>{html.escape(self.unit)}</b>"] * bool(self.unit) + entries))
        if names:
            self.plot.getViewBox().autoRange(padding=0.05)  # fit what is drawn now, not lazily at paint
        else:  # nothing drawn: an empty frame of this period, not the last customer's scale
            self.plot.setXRange(0, max(len(self._xs) - 1, 1), padding=0.02)
            self.plot.setYRange(0, 1, padding=0)
        if not data.currency:
            self.hover_label.setText(tr("No billing currency chosen yet, so no spending."))
        elif names:
            self.hover_label.setText(tr("Hover over the chart to see a day's spending."))
        elif data.services:
            self.hover_label.setText(tr("No usage in the last 90 days; tick Include plan charges to see them."))
        else:
            self.hover_label.setText(tr("No usage in the last 90 days."))

    def day_text(self, index: int) -> str:
        data = self.data
        if data is None or not 0 <= index < len(data.days):
            return ""
        parts = [f"{s.service} {money_text(Money(s.per_day[index], data.currency))}" for s in self.shown()
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
