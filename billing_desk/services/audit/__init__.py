"""The audit domain: the append-only, hash-chained log of every staff write (``record`` is
how every other domain writes its row), its reading and its verification.
"""

from __future__ import annotations

from billing_desk.services.audit.browse import AuditFilters, AuditPage
from billing_desk.services.audit.service import AuditRow, AuditService, record
from billing_desk.services.audit.verify import AuditVerification, ChainHead

__all__ = [
    "AuditFilters",
    "AuditPage",
    "AuditRow",
    "AuditService",
    "AuditVerification",
    "ChainHead",
    "record",
]
