"""Streaming the credit history into CSV (UTF-8 with BOM, so Excel reads the accents).

Same columns as the workbook plus the currency; amounts are plain decimal numbers (a
number, not text, so the formula guard does not apply to them); every text field goes
through ``export_guard.csv_text``. A short header block of ``#`` lines names the customer,
filter, export time and staff member.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

from billing_desk.domain.money import format_plain
from billing_desk.services.exports import csv_text
from billing_desk.services.ledger.dtos import HistoryRow
from billing_desk.services.ledger.history_xlsx import ExportMeta, status_text

HEADERS = ("Date", "Service", "Description", "Status", "Amount", "Currency")


def write_csv(path: Path, meta: ExportMeta, pages: Iterable[list[HistoryRow]],
              on_rows: Callable[[int], None]) -> int:
    local = meta.exported_at.astimezone(meta.zone)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        for label, value in (("Customer", meta.customer), ("Filter", meta.filter),
                             ("Exported at", f"{local:%Y-%m-%d %H:%M:%S} ({meta.zone_name})"),
                             ("Exported by", meta.staff), ("Rows", str(meta.rows))):
            out.writerow([f"# {label}", csv_text(value)])
        out.writerow(HEADERS)
        zone, done = meta.zone, 0
        for page in pages:
            out.writerows(
                (f"{r.created_at.astimezone(zone):%Y-%m-%d %H:%M:%S}", csv_text(r.service),
                 csv_text(r.description), csv_text(status_text(r)),
                 format_plain(r.amount.minor, r.amount.currency).replace(",", ""), r.amount.currency)
                for r in page)
            done += len(page)
            on_rows(done)
    return done
