"""Where packaged files live: the one function that knows about PyInstaller's bundle folder."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of a file under billing_desk/resources, from a source tree, a wheel or a bundle."""
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller's one-file bootloader
    base = Path(bundle) / "billing_desk" if bundle else Path(__file__).resolve().parent
    return base.joinpath("resources", *parts)
