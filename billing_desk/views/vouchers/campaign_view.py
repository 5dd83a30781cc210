"""One campaign: its redemptions per day, and its vouchers (last four, status, redemptions)
filtered by status or by the last four characters, with Revoke for the selected voucher and
for every unused code of the campaign. Each revoke asks why (the dialog is the confirmation)
and goes through the service, which audits it."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.domain.dates import local_zone
from billing_desk.domain.enums import VoucherStatus
from billing_desk.services.vouchers import CampaignFunnel, RedemptionsByDay, RevokeResult, VoucherFilter, VoucherRow
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.dialogs.reason_dialog import ReasonDialog
from billing_desk.views.formatting import money_text, tr
from billing_desk.views.table_models.paged_model import ROW_ROLE
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.table_models.voucher_admin_model import STATUS_LABELS, VoucherAdminModel, voucher_source
from billing_desk.views.widgets.redemption_chart import DAYS, RedemptionChart

FILTER_STATUSES = (VoucherStatus.ACTIVE, VoucherStatus.SCHEDULED, VoucherStatus.EXPIRED, VoucherStatus.REVOKED,
                   VoucherStatus.USED_UP, VoucherStatus.PENDING, VoucherStatus.VOID)
TABLE_KEY = "campaign_vouchers"


class CampaignView(QWidget):
    revoked = Signal(object)  # RevokeResult

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("campaignView")
        self.ctx = ctx
        self.campaign: CampaignFunnel | None = None
        self.title = QLabel(tr("Choose a campaign to see its vouchers."))
        self.title.setObjectName("sectionTitle")
        self.chart = RedemptionChart()
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("voucherStatusFilter")
        self.status_combo.addItem(tr("Every status"), None)
        for status in FILTER_STATUSES:
            self.status_combo.addItem(tr(STATUS_LABELS[status]), status.value)
        self.last4_edit = QLineEdit()
        self.last4_edit.setObjectName("voucherLast4Filter")
        self.last4_edit.setPlaceholderText(tr("Last four"))
        self.last4_edit.setMaxLength(4)
        self.last4_edit.setMaximumWidth(90)
        self.model = VoucherAdminModel(ctx.runner)
        self.model.load_failed.connect(lambda e: show_error(self, e))
        self.model.page_loaded.connect(self._on_page)
        self.table = data_table(self.model, ctx.settings, TABLE_KEY, name="campaignVouchersTable")
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.count_label = QLabel()
        self.count_label.setObjectName("statusLabel")
        self.revoke_button = QPushButton(tr("Revoke voucher…"))
        self.revoke_button.setObjectName("revokeVoucherButton")
        self.revoke_all_button = QPushButton(tr("Revoke unused codes…"))
        self.revoke_all_button.setObjectName("revokeCampaignButton")
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.revoke_all_button.clicked.connect(self.revoke_campaign)
        self.reason_dialog: ReasonDialog | None = None
        self._busy = False
        self._typing = QTimer(self, singleShot=True, interval=250)
        self._typing.timeout.connect(self.reload)
        self.status_combo.currentIndexChanged.connect(self.reload)
        self.last4_edit.textChanged.connect(lambda t: self._typing.start() if len(t) in (0, 4) else None)
        self._build()
        self._on_selection()

    def _build(self) -> None:
        filters = QHBoxLayout()
        filters.addWidget(QLabel(tr("Status")))
        filters.addWidget(self.status_combo)
        filters.addWidget(self.last4_edit)
        filters.addStretch(1)
        filters.addWidget(self.revoke_button)
        filters.addWidget(self.revoke_all_button)
        codes = QVBoxLayout()
        codes.addLayout(filters)
        codes.addWidget(self.table, 1)
        codes.addWidget(self.count_label)
        # The chart beside the list, not above it: a day's bars need width more than height,
        # and the list keeps the height to show a screenful of codes.
        self.chart.setMinimumWidth(240)
        body = QHBoxLayout()
        body.addLayout(codes, 3)
        body.addWidget(self.chart, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)

    # --- loading -------------------------------------------------------------------------------
    def show_campaign(self, campaign: CampaignFunnel | None) -> None:
        self.campaign = campaign
        self.title.setText(campaign.name if campaign else tr("Choose a campaign to see its vouchers."))
        self.reload()
        if campaign is None:
            self.chart.show_days(None)
            return
        vouchers, actor, cid = self.ctx.app.vouchers, self.ctx.actor, campaign.id
        self.ctx.query(lambda: vouchers.redemptions_by_day(actor, cid, DAYS, local_zone()),
                       self._on_days).failure(lambda e: show_error(self, e)).run()

    def _on_days(self, data: RedemptionsByDay) -> None:
        if self.campaign is not None and data.campaign_id == self.campaign.id:
            self.chart.show_days(data)

    def voucher_filter(self) -> VoucherFilter:
        status = self.status_combo.currentData()
        last4 = self.last4_edit.text().strip()
        return VoucherFilter(status=VoucherStatus(status) if status else None,
                             campaign=self.campaign.name if self.campaign else None,
                             last4=last4 if len(last4) == 4 else None)

    def reload(self) -> None:
        if self.campaign is None:
            self.model.set_source(None)
            self.count_label.clear()
            return
        self.count_label.setText(tr("Loading…"))
        self.model.set_source(voucher_source(self.ctx.app.vouchers, self.ctx.actor, self.voucher_filter()))

    def _on_page(self, _n: int) -> None:
        shown = self.model.rowCount()
        more = self.model.canFetchMore()
        self.count_label.setText(tr("{n} vouchers shown{more}.").format(
            n=f"{shown:,}", more=tr(", scroll for more") if more else ""))
        self._on_selection()

    def selected(self) -> VoucherRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], ROW_ROLE) if len(rows) == 1 else None

    def _on_selection(self, *_args: object) -> None:
        row = self.selected()
        live = row is not None and row.status not in (VoucherStatus.REVOKED, VoucherStatus.VOID)
        self.revoke_button.setEnabled(not self._busy and live)
        self.revoke_all_button.setEnabled(not self._busy and self.campaign is not None)

    # --- revoking ------------------------------------------------------------------------------
    def revoke_selected(self) -> None:
        row = self.selected()
        if row is None or self._busy:
            return
        question = tr("Revoke voucher …{last4} ({amount}, redeemed {used} of {most} times)? It can no longer be "
                      "redeemed; credit already granted stays with the customers.").format(
            last4=row.last4, amount=money_text(row.amount), used=row.redemptions, most=row.max_redemptions)
        vouchers, actor, vid = self.ctx.app.vouchers, self.ctx.actor, row.id
        self._ask(tr("Revoke voucher …{last4}").format(last4=row.last4), question, tr("Revoke voucher"),
                  lambda why: vouchers.revoke(actor, vid, why))

    def revoke_campaign(self) -> None:
        campaign = self.campaign
        if campaign is None or self._busy:
            return
        question = tr("Revoke every unused code of “{name}”? None of them can be redeemed afterwards; used-up "
                      "codes and credit already granted stay as they are. {codes} codes in all, {redeemed} "
                      "redemptions so far.").format(name=campaign.name, codes=f"{campaign.codes:,}",
                                                   redeemed=f"{campaign.redeemed:,}")
        vouchers, actor, name = self.ctx.app.vouchers, self.ctx.actor, campaign.name
        self._ask(tr("Revoke campaign “{name}”").format(name=name), question, tr("Revoke unused codes"),
                  lambda why: vouchers.revoke_campaign(actor, name, why))

    def _ask(self, title: str, question: str, action: str, revoke: object) -> None:
        dialog = ReasonDialog(title, question, action, self)
        dialog.accepted.connect(lambda: self._revoke(revoke, dialog.reason()))  # type: ignore[arg-type]
        self.reason_dialog = dialog  # kept for tests, and so it is not collected while open
        dialog.open()

    def _revoke(self, revoke, reason: str) -> None:  # type: ignore[no-untyped-def]
        self._busy = True
        self._on_selection()
        self.ctx.write(lambda: revoke(reason), lambda _r: Changes(vouchers=True), self._on_revoked,
                       initiator=self).failure(self._on_failed).run()

    def _on_revoked(self, result: RevokeResult) -> None:
        self._busy = False
        self.reload()
        self.revoked.emit(result)

    def _on_failed(self, error: BaseException) -> None:
        self._busy = False
        self.reload()
        show_error(self, error)

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, TABLE_KEY)


