"""Billing Desk: the staff's back office for prepaid credit billing."""

__version__ = "0.1.0"
