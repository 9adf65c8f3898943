"""CSV cells a spreadsheet reads as what they are: the one rule for every CSV export (supervisor reports,
the access log).

Excel, LibreOffice and Google Sheets guess each cell's type. Two guesses harm, and each has a remedy:

- Text starting with =, +, -, @, a tab or a carriage return runs as a formula (=HYPERLINK(...) in a name
  becomes a link that leaks or lures: OWASP's "CSV injection"). It gets a leading ', so it shows as the
  text it is and never runs.
- Text of digits is taken for a number or a date: the reference 0012-2030 becomes December 2030, the
  leading zero of 0424 goes, a 16-digit number loses its last digit, 2026-11 becomes Nov-26. Such text is
  written as the formula ="0424-6181", which every one of them shows as exactly that text. Only text made
  of digits and the marks that numbers and dates are written with takes this form, so the formula holds
  no quote, no name and no call: nothing but the literal. A formula's literal holds 255 characters at
  most; longer such text gets the leading ' instead, which keeps it text too.

Numbers stay numbers, so counts can be summed, and a local date and time in ISO form (2026-11-27 09:30)
is left for the spreadsheet to read as the date it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it: without, the Korean is garbled
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What a spreadsheet may read as a number, a percentage, a fraction, a time or a date: digits with
# separators, signs, brackets (Excel's negative), currency signs and an exponent.
NUMBER_LIKE = re.compile(r"[\d\s.,:/%()$₩+\-]*\d[\d\s.,:/%()$₩+\-]*|\s*\d+(\.\d*)?[eE][+-]?\d+\s*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?")
LITERAL_MOST = 255  # characters in a formula's text literal (Excel)


def cell(value: Any) -> Any:
    """`value` as a CSV cell that a spreadsheet shows as the text or number it is."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    if NUMBER_LIKE.fullmatch(value) and not ISO_DATE.fullmatch(value):
        return f'="{value}"' if len(value) <= LITERAL_MOST else "'" + value
    return value


def line(values: Iterable[Any]) -> str:
    """One CSV line (CRLF, as spreadsheets write it) of `values` made safe by `cell`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cell(value) for value in values)
    return buffer.getvalue()
