"""Writing voucher codes and voucher lists to .csv or .xlsx.

Plain codes exist only in memory after issue and in the file they are exported to, so that
file is written through ``atomic_file``: readable by its owner only (0600), whole or not at
all, and never over an existing file. Text typed by staff (campaign names, revoke reasons)
passes the same formula guard as every other export, so a spreadsheet never runs it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from openpyxl import Workbook

from billing_desk.domain.errors import ValidationError
from billing_desk.services.crashpoints import crash_point
from billing_desk.services.exports import atomic_file, csv_text, text_cell
from billing_desk.services.vouchers.dtos import IssuedVouchers, VoucherRow

FORMATS = ("csv", "xlsx")
Cell = str | int | None


def _format(path: Path) -> str:
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValidationError(f"Export to a .csv or .xlsx file, not '{path.name}'.", field="out")
    if not path.parent.is_dir():
        raise ValidationError(f"The folder {path.parent} does not exist.", field="out")
    return fmt


def write_table(path: str | Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]],
                record: Callable[[int], None] | None = None) -> int:
    """Write ``rows`` under ``headers``; returns the number of rows written. ``record(rows)``
    runs before the file takes its name, so an audit row that cannot be written leaves no file."""
    target = Path(path).expanduser()
    writer = _write_csv if _format(target) == "csv" else _write_xlsx
    with atomic_file(target) as temp:
        count = writer(temp, headers, rows)
        if record is not None:
            record(count)
        return count


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([csv_text(c) if isinstance(c, str) else "" if c is None else c for c in row])
            count += 1
    return count


def _write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> int:
    book = Workbook(write_only=True)  # constant memory: 100,000 codes stay small
    sheet = book.create_sheet("Vouchers")
    sheet.append(list(headers))
    count = 0
    for row in rows:
        sheet.append([text_cell(sheet, c) if isinstance(c, str) else c for c in row])
        count += 1
    book.save(path)
    return count


CODE_HEADERS = ("code", "amount", "currency", "campaign", "valid_from", "valid_until", "max_redemptions",
                "credit_days", "voucher_id")


def _code_rows(issued: IssuedVouchers) -> Iterator[tuple[Cell, ...]]:
    amount = format(issued.amount.as_decimal(), "f")
    vf = issued.valid_from.isoformat() if issued.valid_from else None
    vu = issued.valid_until.isoformat() if issued.valid_until else None
    half = len(issued.codes) // 2
    for i, (code, vid) in enumerate(zip(issued.codes, issued.voucher_ids, strict=True)):
        if i == half:
            crash_point("voucher.mid_write")  # leaves a part-written file
        yield code, amount, issued.amount.currency, issued.campaign, vf, vu, issued.max_redemptions, \
            issued.credit_days, vid


def check_code_file(path: str | Path) -> Path:
    """The file codes may go to, checked before any code is issued: a .csv or .xlsx in a folder
    we can write, where no file exists yet (codes are never written over a file: it may hold live ones).
    """
    target = Path(path).expanduser().absolute()
    _format(target)
    if target.exists():
        raise ValidationError(f"{target} already exists, and voucher codes are never written over a file "
                              "(it may hold live codes): choose a new file name.", field="out")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise ValidationError(f"Cannot create files in the folder {target.parent}.", field="out")
    return target


def export_codes(issued: IssuedVouchers, path: str | Path, *, temp_tag: str = "") -> int:
    """Write the codes of a pending batch to a new file; ``temp_tag`` marks its temporary file."""
    target = check_code_file(path)
    writer = _write_csv if _format(target) == "csv" else _write_xlsx
    try:
        with atomic_file(target, tag=temp_tag, replace=False) as temp:
            count = writer(temp, CODE_HEADERS, _code_rows(issued))
            crash_point("voucher.after_write")
    except FileExistsError:
        raise ValidationError(f"{target} appeared while the codes were being written; choose a new file name.",
                              field="out") from None
    except OSError as exc:
        raise ValidationError(f"Cannot write the codes to {target}: {exc.strerror or exc}.", field="out") from None
    return count


LIST_HEADERS = ("id", "last4", "campaign", "amount", "currency", "status", "redemptions", "max_redemptions",
                "credit_granted", "valid_from", "valid_until", "customer_id", "created_at", "revoked_reason")


def list_cells(row: VoucherRow) -> tuple[Cell, ...]:
    return (row.id, row.last4, row.campaign, format(row.amount.as_decimal(), "f"), row.amount.currency,
            row.status.value, row.redemptions, row.max_redemptions, format(row.credit_granted.as_decimal(), "f"),
            row.valid_from.isoformat() if row.valid_from else None,
            row.valid_until.isoformat() if row.valid_until else None, row.customer_id, row.created_at.isoformat(),
            row.revoked_reason)


def export_list(rows: Iterable[VoucherRow], path: str | Path, record: Callable[[int], None] | None = None) -> int:
    return write_table(path, LIST_HEADERS, (list_cells(r) for r in rows), record)
