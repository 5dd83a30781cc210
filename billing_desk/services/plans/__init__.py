"""The plans domain: the plans catalog and subscriptions (upgrades charged now, prorated;
downgrades at the next period).
"""

from __future__ import annotations

from billing_desk.services.plans.dtos import CatalogEntry, PlanChangePreview, PlanChangeResult, PlanRow, SubscriptionDTO
from billing_desk.services.plans.service import PlanService

__all__ = [
    "CatalogEntry",
    "PlanChangePreview",
    "PlanChangeResult",
    "PlanRow",
    "PlanService",
    "SubscriptionDTO",
]
