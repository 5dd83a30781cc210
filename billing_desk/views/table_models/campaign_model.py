"""The campaigns table: one row per campaign and currency, with the funnel's figures
(codes issued, redeemed, credit granted, spent, expired, outstanding) and, for a glance at
how far a campaign went, the share of its codes redeemed."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject

from billing_desk.domain.money import Money
from billing_desk.services.vouchers import CampaignFunnel, FunnelLine
from billing_desk.views.formatting import AMOUNT_ALIGN, MUTED, local_time, tr
from billing_desk.views.table_models.paged_model import Column, PagedTableModel, amount_column
from billing_desk.views.tasks import TaskRunner


@dataclass(frozen=True, slots=True)
class CampaignLine:
    """A row: a campaign, and the funnel of one of its currencies (None: no code issued yet)."""

    campaign: CampaignFunnel
    line: FunnelLine | None

    @property
    def currency(self) -> str:
        return self.line.currency if self.line else ""


def campaign_lines(funnels: list[CampaignFunnel]) -> list[CampaignLine]:
    return [CampaignLine(f, line) for f in funnels for line in (f.lines or (None,))]


def _count(key: str, header: str, get: str) -> Column:
    def value(r: CampaignLine) -> int:
        return int(getattr(r.line, get)) if r.line else 0
    return Column(key, header, lambda r: f"{value(r):,}", AMOUNT_ALIGN, numeric=True, sort_key=value, width=95)


def _money(key: str, header: str, get: str) -> Column:
    def value(r: CampaignLine) -> Money:
        return getattr(r.line, get) if r.line else Money(0, "USD")
    return amount_column(key, header, value, color=lambda r: MUTED if r.line and not getattr(r.line, get).minor
                         else None, width=115)


def _share(r: CampaignLine) -> str:
    if not r.line or not r.line.codes:
        return "—"
    return f"{r.line.redeemed / r.line.codes:.1%}"


def campaign_columns() -> list[Column]:
    return [
        # Not a stretching column: on a narrow screen it would shrink to nothing, and the name is
        # what a person reads first; the last column takes what is left instead.
        Column("name", tr("Campaign"), lambda r: r.campaign.name, tooltip=lambda r: r.campaign.name, width=200),
        Column("created", tr("Created"), lambda r: local_time(r.campaign.created_at), width=125),
        Column("currency", tr("Currency"), lambda r: r.currency, width=75),
        _count("codes", tr("Codes"), "codes"),
        _count("redeemed", tr("Redeemed"), "redeemed"),
        Column("share", tr("Redeemed %"), _share, AMOUNT_ALIGN, numeric=True, width=105,
               sort_key=lambda r: r.line.redeemed / r.line.codes if r.line and r.line.codes else 0.0),
        _money("granted", tr("Granted"), "granted"),
        _money("spent", tr("Spent"), "spent"),
        _money("expired", tr("Expired"), "expired"),
        _money("outstanding", tr("Outstanding"), "outstanding"),
    ]


class CampaignTableModel(PagedTableModel):
    """Every campaign in one page: a thousand campaigns are a thousand rows, read by one call."""

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(runner, campaign_columns(), page_size=1_000_000, parent=parent)
