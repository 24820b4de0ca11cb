"""Exports: formula-looking text is neutralised in CSV and Excel; numbers, Chinese and dates survive."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pandas as pd

from analysis import exports

EVIL = pd.DataFrame({
    "activity": ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "审批", "a=b"],
    "count": [1, 2, -3, 4, 5, 6, 7, 8],
})


def test_formula_cells_are_neutralised_in_csv():
    text = exports.to_csv(EVIL)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    assert frame["activity"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1+1", "'-2", "'@SUM(A1)", "'\tTab", "'\rCR",
                                          "审批", "a=b"]
    assert frame["count"].tolist() == ["1", "2", "-3", "4", "5", "6", "7", "8"]  # numbers untouched


def test_formula_cells_are_neutralised_in_excel():
    book = openpyxl.load_workbook(io.BytesIO(exports.to_excel({"a very long sheet name beyond thirty-one": EVIL,
                                                               "=evil": EVIL})))
    assert book.sheetnames[0] == "a very long sheet name beyond t"
    sheet = book.worksheets[0]
    values = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert all(not str(v).startswith(exports.DANGEROUS) for v in values)
    assert values[0] == "'=HYPERLINK(\"http://x\")" and values[6] == "审批"
    assert [row[1].value for row in sheet.iter_rows(min_row=2)][2] == -3
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # no formula anywhere


def test_column_names_and_lists_are_neutralised_too():
    frame = exports.safe_frame(pd.DataFrame({"=x": [["-a", "b"]]}))
    assert list(frame.columns) == ["'=x"]
    assert frame.iloc[0, 0] == "'-a, b"


def test_every_table_export_goes_through_the_neutraliser():
    # CSV or Excel written anywhere else would skip the formula check: pages and analysis call exports only.
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = [f"{path.relative_to(root)}:{n}" for folder in ("pages", "analysis") for path in (root / folder).glob("*.py")
                 if path.name != "exports.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if re.search(r"(?<!exports)\.to_(csv|excel)\(|csv\.writer\(|ExcelWriter\(", line)]
    assert offenders == []
