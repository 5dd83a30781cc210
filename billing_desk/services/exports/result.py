"""What every export returns, and the one rule for which file format was asked for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billing_desk.domain.errors import ValidationError

FORMATS = ("xlsx", "csv")


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: str
    format: str
    rows: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "rows": self.rows, "seconds": round(self.seconds, 3)}


def export_format(path: Path, fmt: str | None) -> str:
    chosen = (fmt or path.suffix.lstrip(".") or "xlsx").lower()
    if chosen not in FORMATS:
        raise ValidationError(f"Export format '{chosen}' is not offered; choose xlsx or csv.", field="format")
    return chosen
