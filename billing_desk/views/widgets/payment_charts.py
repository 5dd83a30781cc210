"""Finance's two charts per local day and gateway: settled top-up volume (in one currency at a
time, chosen in a picker: PayPal settles in several and currencies are never added) and the
success rate, settled / (settled + failed), with the values of the day under the mouse.

The database aggregates (``PaymentService.daily_figures``); this widget only lays the figures
out. Amounts stay integer minor units until drawn, as in the spending chart (whose pyqtgraph
settings it shares: no antialiasing, fixed day ticks)."""

from __future__ import annotations

import html
import math
from collections import defaultdict

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.money import CURRENCIES, Money
from billing_desk.services.payments import PaymentDaily
from billing_desk.views.formatting import money_text, tr

GATEWAY_COLOURS = {"vnpay": "#2563eb", "stripe": "#7c3aed", "paypal": "#d97706"}
PERIODS = (30, 90)


class CompactAxis(pg.AxisItem):
    """1.5M, 800k, 25: a VND day's volume in a narrow axis, not 1e+06 or 3,450,000."""

    def tickStrings(self, values, scale, spacing):  # type: ignore[no-untyped-def]
        return [compact_number(v * scale) for v in values]


def compact_number(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _plot(minimum_height: int = 90) -> pg.PlotWidget:
    plot = pg.PlotWidget(axisItems={"left": CompactAxis("left")})
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.setMinimumHeight(minimum_height)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(40)
    plot.getViewBox().disableAutoRange()  # the ranges are set from the data: stable and cheap
    return plot


class PaymentCharts(QWidget):
    period_changed = Signal(int)  # days: 30 or 90

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="#374151")
        self.period_combo = QComboBox()
        for days in PERIODS:
            self.period_combo.addItem(tr("Last {n} days").format(n=days), days)
        self.currency_combo = QComboBox()
        self.currency_combo.setToolTip(tr("Volume in one currency at a time: currencies are never added"))
        self.legend = QLabel()
        self.legend.setObjectName("chartLegend")
        self.volume_title = QLabel()
        self.volume_title.setObjectName("figureCaption")
        self.rate_title = QLabel(tr("Success rate (settled ÷ settled + failed), %"))
        self.rate_title.setObjectName("figureCaption")
        self.volume_plot, self.rate_plot = _plot(), _plot()
        self.rate_plot.setYRange(0, 100, padding=0.02)
        self.hover_label = QLabel(tr("Hover over a chart to see a day's figures."))
        self.hover_label.setObjectName("statusLabel")
        self.hover_label.setWordWrap(True)
        self.data: PaymentDaily | None = None
        self._xs: list[float] = []
        self._volume: dict[str, pg.PlotDataItem] = {}
        self._rate: dict[str, pg.PlotDataItem] = {}
        self._layout()
        self.period_combo.currentIndexChanged.connect(lambda _i: self.period_changed.emit(self.days()))
        self.currency_combo.currentIndexChanged.connect(lambda _i: self._draw_volume())
        for plot in (self.volume_plot, self.rate_plot):
            plot.scene().sigMouseMoved.connect(lambda pos, p=plot: self._on_mouse_moved(p, pos))

    def _layout(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(self.period_combo)
        controls.addWidget(self.currency_combo)
        controls.addWidget(self.legend, 1)
        plots = QGridLayout()
        plots.setVerticalSpacing(0)
        plots.addWidget(self.volume_title, 0, 0)
        plots.addWidget(self.rate_title, 0, 1)
        plots.addWidget(self.volume_plot, 1, 0)
        plots.addWidget(self.rate_plot, 1, 1)
        plots.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(controls)
        layout.addLayout(plots, 1)
        layout.addWidget(self.hover_label)

    def days(self) -> int:
        return int(self.period_combo.currentData())

    def currency(self) -> str | None:
        code = self.currency_combo.currentData()
        return str(code) if code else None

    # --- data -----------------------------------------------------------------------------
    def show_daily(self, data: PaymentDaily) -> None:
        self.data = data
        last = len(data.days) - 1
        self._xs = [float(i) for i in range(last + 1)]
        step = 10 if len(data.days) <= 31 else 30  # three or four labels: they never meet on a narrow chart
        ticks = [[(float(i), d.strftime("%b %d")) for i, d in enumerate(data.days) if (last - i) % step == 0], []]
        for plot in (self.volume_plot, self.rate_plot):
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(0, max(last, 1), padding=0.02)
        self._fill_currencies(data)
        self._draw_volume()
        self._draw_rate()
        names = sorted({f.method for f in data.figures})
        self.legend.setText("&nbsp;&nbsp; ".join(
            f'<span style="color:{GATEWAY_COLOURS.get(m, "#374151")}">&#9632;</span>&nbsp;'
            f"{html.escape(PaymentMethod(m).label)}" for m in names) or tr("No payments settled or failed yet."))

    def _fill_currencies(self, data: PaymentDaily) -> None:
        volume: dict[str, int] = defaultdict(int)
        for f in data.figures:
            volume[f.currency] += f.settled_count
        codes = sorted(volume, key=lambda c: (-volume[c], c))  # the busiest currency first
        current = self.currency()
        self.currency_combo.blockSignals(True)
        self.currency_combo.clear()
        for code in codes:
            self.currency_combo.addItem(code, code)
        index = self.currency_combo.findData(current)
        self.currency_combo.setCurrentIndex(index if index >= 0 else 0)
        self.currency_combo.blockSignals(False)
        self.currency_combo.setVisible(bool(codes))

    def volume_series(self) -> dict[str, list[int]]:
        """Settled minor units per gateway and day, in the chosen currency."""
        data, code = self.data, self.currency()
        if data is None or code is None:
            return {}
        index = {d: i for i, d in enumerate(data.days)}
        series: dict[str, list[int]] = {}
        for f in data.figures:
            if f.currency == code and f.settled_count:
                series.setdefault(f.method, [0] * len(data.days))[index[f.day]] += f.settled.minor
        return series

    def rate_series(self) -> dict[str, list[float]]:
        """Success rate in percent per gateway and day (all currencies: counts, not money); NaN on
        a day when nothing ended, so the line breaks there rather than dropping to zero."""
        data = self.data
        if data is None:
            return {}
        index = {d: i for i, d in enumerate(data.days)}
        ended: dict[str, list[list[int]]] = {}
        for f in data.figures:
            days = ended.setdefault(f.method, [[0, 0] for _ in data.days])
            days[index[f.day]][0] += f.settled_count
            days[index[f.day]][1] += f.failed_count
        return {m: [100.0 * s / (s + x) if s + x else math.nan for s, x in days] for m, days in ended.items()}

    def _draw_volume(self) -> None:
        code = self.currency()
        scale = CURRENCIES[code].scale if code else 1
        series = {m: [v / scale for v in per_day] for m, per_day in self.volume_series().items()}
        self._draw(self.volume_plot, self._volume, series)
        self.volume_title.setText(tr("Settled top-ups per day in {code}").format(code=code) if code
                                  else tr("Settled top-ups per day"))
        top = max((max(ys) for ys in series.values()), default=0.0)
        self.volume_plot.setYRange(0, top * 1.08 if top > 0 else 1, padding=0)

    def _draw_rate(self) -> None:
        # Dots as well as lines: a day between two days with nothing ended has no line to draw.
        self._draw(self.rate_plot, self._rate, self.rate_series(), symbols=True)

    def _draw(self, plot: pg.PlotWidget, curves: dict[str, pg.PlotDataItem], series: dict[str, list[float]],
              *, symbols: bool = False) -> None:
        for gone in [m for m in curves if m not in series]:
            plot.removeItem(curves.pop(gone))
        for method, ys in sorted(series.items()):
            colour = GATEWAY_COLOURS.get(method, "#374151")
            style = {"pen": pg.mkPen(colour, width=2), "connect": "finite"}
            if symbols:
                style.update(symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None)
            curve = curves.get(method)
            if curve is None:
                curves[method] = plot.plot(self._xs, ys, **style)
            else:
                curve.setData(self._xs, ys, **style)

    # --- hover ----------------------------------------------------------------------------
    def day_text(self, index: int) -> str:
        data = self.data
        if data is None or not 0 <= index < len(data.days):
            return ""
        day = data.days[index]
        parts = []
        for f in sorted((f for f in data.figures if f.day == day), key=lambda f: (f.method, f.currency)):
            ended = f.settled_count + f.failed_count
            rate = f"{100 * f.settled_count // ended}%" if ended else "—"
            parts.append(tr("{gateway} {currency}: {amount} settled ({settled} settled, {failed} failed, {rate})")
                         .format(gateway=PaymentMethod(f.method).label, currency=f.currency,
                                 amount=money_text(Money(f.settled.minor, f.currency)),
                                 settled=f.settled_count, failed=f.failed_count, rate=rate))
        if not parts:
            return tr("{day}: no payment settled or failed").format(day=day.isoformat())
        return tr("{day}: {figures}").format(day=day.isoformat(), figures="; ".join(parts))

    def _on_mouse_moved(self, plot: pg.PlotWidget, pos: object) -> None:
        if not self._xs or not plot.sceneBoundingRect().contains(pos):  # type: ignore[arg-type]
            return
        x = plot.plotItem.vb.mapSceneToView(pos).x()
        index = min(range(len(self._xs)), key=lambda i: abs(self._xs[i] - x))
        self.hover_label.setText(self.day_text(index))
