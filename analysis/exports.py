"""Tables leaving the tool as CSV or Excel, with formula-looking text neutralised.

A cell that starts with =, +, -, @ (or a tab or carriage return) is run as a formula by Excel and
LibreOffice when the file is opened — an activity or case id from a user's log could do anything.
Such text cells get a leading apostrophe, the usual neutraliser; numbers are left alone.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value, with a leading ' when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    if isinstance(value, (list, tuple)):
        return safe_cell(", ".join(str(v) for v in value))
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and column name passed through safe_cell."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """CSV text with a BOM (Excel then reads UTF-8, Chinese included), formula-looking cells neutralised."""
    # Every text quoted: a bare carriage return inside a value would otherwise split the row.
    return "\ufeff" + safe_frame(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)


def to_excel(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook with one sheet per table (names cut to Excel's 31 characters), cells neutralised."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            clean = safe_frame(frame)
            for column in clean.columns:  # Excel has no time zones: write datetimes as wall-clock values
                if isinstance(clean[column].dtype, pd.DatetimeTZDtype):
                    clean[column] = clean[column].dt.tz_localize(None)
            clean.to_excel(writer, sheet_name=name[:31] or "table", index=False)
    return buffer.getvalue()
