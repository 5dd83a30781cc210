"""A campaign's redemptions per local day as bars (pyqtgraph, set up as the payment charts are:
no antialiasing, fixed day ticks, ranges set from the data), with the day under the mouse."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from billing_desk.services.vouchers import RedemptionsByDay
from billing_desk.views.formatting import tr
from billing_desk.views.widgets.payment_charts import _plot

DAYS = 30


class RedemptionChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="#374151")
        self.title = QLabel(tr("Redemptions per day, last {n} days").format(n=DAYS))
        self.title.setObjectName("figureCaption")
        self.plot = _plot(110)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#2563eb", pen=None)
        self.plot.addItem(self.bars)
        self.hover_label = QLabel(tr("Hover over the chart to see a day's redemptions."))
        self.hover_label.setObjectName("statusLabel")
        self.data: RedemptionsByDay | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hover_label)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def show_days(self, data: RedemptionsByDay | None) -> None:
        self.data = data
        counts = list(data.counts) if data else []
        last = len(counts) - 1
        self.bars.setOpts(x=list(range(len(counts))), height=counts)
        if data:
            self.plot.getAxis("bottom").setTicks([
                [(float(i), d.strftime("%b %d")) for i, d in enumerate(data.days) if (last - i) % 10 == 0], []])
        self.plot.setXRange(-0.5, max(last, 1) + 0.5, padding=0.01)
        self.plot.setYRange(0, max([*counts, 1]) * 1.1, padding=0)
        self.hover_label.setText(tr("{n} redemptions in the last {days} days.").format(
            n=f"{sum(counts):,}", days=len(counts)) if data else "")

    def day_text(self, index: int) -> str:
        if self.data is None or not 0 <= index < len(self.data.days):
            return ""
        return tr("{day}: {n} redemptions").format(day=self.data.days[index].isoformat(),
                                                   n=f"{self.data.counts[index]:,}")

    def _on_mouse_moved(self, pos: object) -> None:
        if self.data is None or not self.plot.sceneBoundingRect().contains(pos):  # type: ignore[arg-type]
            return
        x = self.plot.plotItem.vb.mapSceneToView(pos).x()
        self.hover_label.setText(self.day_text(round(x)))
