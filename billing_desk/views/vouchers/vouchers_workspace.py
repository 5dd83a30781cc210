"""The Vouchers workspace (managers and admins; VOUCHER_ISSUE): Issue vouchers (one code or a
batch, the codes shown once), the campaigns with their funnels per currency, and the selected
campaign's redemptions per day and vouchers, with revoke. It only composes: the issue dialog,
the codes dialog and the campaign view are their own classes and files. The campaigns re-read
after any voucher change on the bus (an issue, a revoke, a redemption at another tab)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.services.vouchers import CampaignFunnel, IssuedVouchers
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import tr
from billing_desk.views.table_models.campaign_model import CampaignLine, CampaignTableModel, campaign_lines
from billing_desk.views.table_models.paged_model import ROW_ROLE
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.vouchers.campaign_view import CampaignView
from billing_desk.views.vouchers.codes_dialog import IssuedCodesDialog
from billing_desk.views.vouchers.issue_dialog import IssueVouchersDialog

TABLE_KEY = "voucher_campaigns"
SPLITTER_KEY = "vouchers/splitter"


class VouchersWorkspace(QWidget):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vouchersWorkspace")
        self.ctx = ctx
        self.issue_button = QPushButton(tr("Issue vouchers…"))
        self.issue_button.setObjectName("issueVouchersButton")
        self.issue_button.clicked.connect(self.open_issue)
        self.reload_button = QPushButton(tr("Reload"))
        self.reload_button.clicked.connect(self.reload)
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.model = CampaignTableModel(ctx.runner)
        self.model.load_failed.connect(lambda e: show_error(self, e))
        self.model.page_loaded.connect(self._on_loaded)
        self.table = data_table(self.model, ctx.settings, TABLE_KEY, name="campaignsTable")
        self.table.setSortingEnabled(False)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.campaign = CampaignView(ctx)
        self.campaign.revoked.connect(lambda _r: self.reload())
        self.issue_dialog: IssueVouchersDialog | None = None
        self.codes_dialog: IssuedCodesDialog | None = None
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.campaign)
        self.splitter.setSizes([320, 420])
        state = ctx.settings.value(SPLITTER_KEY)
        if state is not None:
            self.splitter.restoreState(state)  # type: ignore[arg-type]
        bar = QHBoxLayout()
        bar.addWidget(self.issue_button)
        bar.addWidget(self.status_label, 1)
        bar.addWidget(self.reload_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        ctx.bus.changed.connect(self._on_changes)
        self.reload()

    # --- campaigns -----------------------------------------------------------------------------
    def reload(self) -> None:
        vouchers, actor = self.ctx.app.vouchers, self.ctx.actor
        self.status_label.setText(tr("Loading campaigns…"))
        self._keep = self.current_campaign()
        # Every campaign in one call: a single "page" with no next cursor.
        self.model.set_source(lambda _after, _limit: (campaign_lines(vouchers.campaign_funnels(actor)), None))

    def _on_loaded(self, _n: int) -> None:
        names = {self.model.row(i).campaign.id for i in range(self.model.rowCount())}
        self.status_label.setText(tr("{n} campaigns.").format(n=f"{len(names):,}") if names else
                                  tr("No campaign yet: issue vouchers to start one."))
        keep = self._keep.id if self._keep else None
        for i in range(self.model.rowCount()):
            if self.model.row(i).campaign.id == keep or (keep is None and i == 0):
                self.table.selectRow(i)
                return
        self.campaign.show_campaign(None)

    def current_campaign(self) -> CampaignFunnel | None:
        index = self.table.currentIndex()
        row = self.model.data(index, ROW_ROLE) if index.isValid() else None
        return row.campaign if isinstance(row, CampaignLine) else None

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.data(current, ROW_ROLE) if current.isValid() else None
        campaign = row.campaign if isinstance(row, CampaignLine) else None
        shown = self.campaign.campaign
        if campaign is None or shown is None or campaign.id != shown.id or campaign != shown:
            self.campaign.show_campaign(campaign)

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if changes.vouchers and initiator is not self.campaign:
            self.reload()

    # --- issuing -------------------------------------------------------------------------------
    def open_issue(self) -> None:
        dialog = IssueVouchersDialog(self.ctx, self)
        dialog.issued_codes.connect(self.show_codes)
        self.issue_dialog = dialog
        dialog.open()

    def show_codes(self, issued: IssuedVouchers) -> None:
        dialog = IssuedCodesDialog(self.ctx, issued, self)
        self.codes_dialog = dialog
        dialog.open()

    def refresh(self) -> None:
        """F5: the campaigns and the chosen campaign read again."""
        self.reload()

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, TABLE_KEY)
        self.ctx.settings.setValue(SPLITTER_KEY, self.splitter.saveState())
        self.campaign.save_state()
