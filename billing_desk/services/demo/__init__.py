"""Deterministic demo data, only for a database created for the demo. Nothing else imports
this package.
"""

from __future__ import annotations

from billing_desk.services.demo.database import DemoDatabase, create_demo_database
from billing_desk.services.demo.seed import DEMO_PASSWORD, DemoService, SeedOptions

__all__ = [
    "DEMO_PASSWORD",
    "DemoDatabase",
    "DemoService",
    "SeedOptions",
    "create_demo_database",
]
