"""Deterministic demo data for a demo database. Nothing else imports this package.
"""

from __future__ import annotations

from billing_desk.services.demo.seed import DEMO_PASSWORD, DemoService, SeedOptions

__all__ = [
    "DEMO_PASSWORD",
    "DemoService",
    "SeedOptions",
]
