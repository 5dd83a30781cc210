"""Icons for buttons that carry text too."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap

from billing_desk.resources import resource_path

SIZE = 16
GAP = 6  # a style-sheet button draws its text right against the icon; the gap is part of the icon


def button_icon(name: str) -> QIcon:
    """The SVG ``icons/<name>.svg`` at 16 px with a transparent gap on its right."""
    canvas = QPixmap(SIZE + GAP, SIZE)
    canvas.fill(Qt.GlobalColor.transparent)
    painter = QPainter(canvas)
    painter.drawPixmap(0, 0, QIcon(str(resource_path("icons", f"{name}.svg"))).pixmap(SIZE, SIZE))
    painter.end()
    return QIcon(canvas)
