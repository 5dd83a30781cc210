"""How figures look on screen: money text, the colour of a negative, tabular digits, dates."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QComboBox, QWidget

from billing_desk.domain.dates import local_text
from billing_desk.domain.money import CURRENCIES, Money, format_money

NEGATIVE = QColor("#b3261e")
POSITIVE = QColor("#1b6e3a")
MUTED = QColor("#6b7280")
AMOUNT_ALIGN = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def tr(text: str, context: str = "BillingDesk") -> str:
    return QCoreApplication.translate(context, text)


def money_text(money: Money | None) -> str:
    """'-$25.00' for a negative: the minus sign stays, colour is only a second cue."""
    return "—" if money is None else format_money(money)


def add_currency_items(combo: QComboBox, codes: Iterable[str]) -> None:
    """One item per currency, 'VND — Vietnamese dong', with the code as the item's data."""
    for code in codes:
        combo.addItem(f"{code} — {CURRENCIES[code].name}", code)


def money_color(money: Money | None) -> QColor | None:
    if money is None:
        return None
    return NEGATIVE if money.minor < 0 else None


def signed_money_color(money: Money | None) -> QColor | None:
    """For credit history: money in is green, money out red."""
    if money is None or money.minor == 0:
        return None
    return NEGATIVE if money.minor < 0 else POSITIVE


def set_style_flag(widget: QWidget, name: str, value: bool) -> None:
    """Set a property that style.qss selects on (``[negative="true"]``) and re-apply the sheet:
    Qt does not re-evaluate property selectors by itself once a widget is polished."""
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def tabular_font(base: QFont | None = None) -> QFont:
    """Digits of equal width so amounts line up in a column."""
    font = QFont(base) if base is not None else QFont()
    with contextlib.suppress(AttributeError, TypeError):  # Qt before 6.7 has no font features
        font.setFeature(QFont.Tag("tnum"), 1)
    return font


def local_time(value: datetime | None, seconds: bool = False) -> str:
    return local_text(value, seconds=seconds)
