"""Writing an export: CSV for French spreadsheets, XLSX with typed cells — row by row.

CSV: UTF-8 with a byte order mark and ``;`` between fields (what Excel in French expects;
LibreOffice reads it too), dates as ``JJ/MM/AAAA``, one line generated at a time and sent
as it comes (the response streams). XLSX: XlsxWriter in constant-memory mode, each row
flushed to disk as written, into an anonymous temporary file that is sent then dropped;
numbers as numbers, dates as dates, a frozen header row and column widths.

Formula injection (CSV injection): a text cell starting with ``=``, ``+``, ``-``, ``@`` (or
a tab or carriage return) would be run as a formula by a spreadsheet. In the CSV it is
prefixed with an apostrophe; in the XLSX it is written as a string cell with Excel's
« quote prefix », which keeps it text without changing the value.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_DATE = "%d/%m/%Y"


@dataclass(frozen=True)
class Column:
    """An export's column: its French header and its width in the XLSX (characters)."""

    header: str
    width: int = 14


def neutralise(value: str) -> str:
    """The text as a spreadsheet may show it without running it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime | date):
        return value.strftime(CSV_DATE)
    if isinstance(value, int | float):
        return str(value).replace(".", ",")
    return neutralise(str(value))


def csv_lines(columns: list[Column], rows: Iterable[tuple]) -> Iterator[str]:
    """The CSV, line by line: the BOM and the header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield "\ufeff" + line([neutralise(c.header) for c in columns])
    for row in rows:
        yield line([_csv_cell(value) for value in row])


def xlsx_file(columns: list[Column], rows: Iterable[tuple], sheet: str):
    """The XLSX in an anonymous temporary file, rewound (the caller sends and closes it)."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by send_file
    book = xlsxwriter.Workbook(
        output,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    header = book.add_format({"bold": True, "bg_color": "#DCE6F2", "text_wrap": True})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    quoted = book.add_format({"quote_prefix": True})
    ws = book.add_worksheet(sheet[:31])
    for index, column in enumerate(columns):
        ws.set_column(index, index, column.width)
    # Constant-memory mode writes rows in order: the header, then each row once.
    for index, column in enumerate(columns):
        ws.write_string(0, index, column.header, header)
    ws.freeze_panes(1, 0)
    last = 0
    for last, row in enumerate(rows, start=1):
        for index, value in enumerate(row):
            _xlsx_cell(ws, last, index, value, day=day, quoted=quoted)
    ws.autofilter(0, 0, last, len(columns) - 1)
    book.close()
    output.seek(0)
    return output


def _xlsx_cell(ws, row: int, col: int, value, *, day, quoted) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_string(row, col, "oui" if value else "non")
    elif isinstance(value, datetime | date):
        ws.write_datetime(row, col, value, day)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value)
    else:
        text = str(value)
        if text.startswith(FORMULA_STARTS):
            ws.write_string(row, col, text, quoted)
        else:
            ws.write_string(row, col, text)
