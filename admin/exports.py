"""Spreadsheet exports that Excel opens correctly and safely.

CSV is written as UTF-8 with a BOM (utf-8-sig) so Excel shows Chinese; XLSX with openpyxl's
write-only mode. Every text cell that starts with = + - @ (or a tab / carriage return, which
Excel strips before looking) is prefixed with an apostrophe, so a name like
=HYPERLINK("http://evil", "点击") arrives as text and never runs as a formula
(OWASP "CSV injection"). Numbers and dates stay numbers and dates.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Sequence
from urllib.parse import quote

from flask import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe(value):
    """A cell value that a spreadsheet will show as typed, never evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, Decimal, int, float)):
        return str(value)
    return safe(str(value))


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe(str(h)) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return Response(out.getvalue().encode("utf-8-sig"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _disposition(filename)})


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        bold = []
        for h in header:
            cell = WriteOnlyCell(ws, value=safe(str(h)))
            cell.font = Font(bold=True)
            bold.append(cell)
        ws.append(bold)
        for row in rows:
            out = []
            for v in row:
                if isinstance(v, datetime):
                    v = v.replace(tzinfo=None)
                elif isinstance(v, Decimal):
                    v = float(v)
                elif isinstance(v, str):
                    v = safe(v)
                out.append(v)
            ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(filename: str, sheets) -> Response:
    return Response(xlsx_bytes(sheets),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": _disposition(filename)})
