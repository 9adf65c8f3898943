"""Reading the CSV exports back as a spreadsheet shows them: a cell written as the text formula ="0424-6181"
shows 0424-6181 (tickets.spreadsheet)."""

from __future__ import annotations

import csv
import io
import re

TEXT_FORMULA = re.compile(r'="([^"]*)"')


def shown(cell: str) -> str:
    """What a spreadsheet shows for `cell`."""
    literal = TEXT_FORMULA.fullmatch(cell)
    return literal.group(1) if literal else cell


def rows_as_shown(body: bytes) -> list[list[str]]:
    """The rows of a CSV export (UTF-8 after a byte-order mark), each cell as a spreadsheet shows it."""
    assert body.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    return [[shown(cell) for cell in row] for row in csv.reader(io.StringIO(body.decode("utf-8-sig")))]
