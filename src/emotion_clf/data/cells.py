"""CSV cells a spreadsheet opens as text, never as a formula, and read back exactly.

A cell that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR is a formula to Excel, LibreOffice
and Google Sheets (``=HYPERLINK("http://evil", "click")``, ``@SUM(...)``, ``-2+3``): a feedback
file opened by whoever reviews it would run what a user typed. OWASP's recommendation
(CSV injection) is to write such a cell with a leading ``'``, which spreadsheets read as
"this is text" and do not show. :func:`guard_cell` does that for every cell the feedback writer
writes; :func:`unguard_cell` is what the loader applies to every cell it reads, so training and
the performance report see the text as it was, not the guard.

The round trip is exact for every text: a cell that already starts with ``'`` *followed by* a
guarded character or another ``'`` (``'=x``, ``''``) is guarded too, so the reader can always
tell a guard from text that starts with ``'``. Text such as ``'Tis the season`` is written and
read unchanged. A hand-written CSV is read the same way: a cell ``'=x`` there means a
spreadsheet user protected ``=x`` (Excel exports the text without the ``'``), so ``=x`` is what
it holds.
"""

from __future__ import annotations

#: the first characters that make a spreadsheet read a cell as a formula (OWASP)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"
_AFTER_GUARD = (*FORMULA_STARTS, GUARD)


def _guarded(cell: str) -> bool:
    return cell.startswith(GUARD) and cell[1:].startswith(_AFTER_GUARD)


def guard_cell(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates; :func:`unguard_cell` gives ``text`` back."""
    if text.startswith(FORMULA_STARTS) or _guarded(text):
        return GUARD + text
    return text


def unguard_cell(cell: str) -> str:
    """The text a cell written by :func:`guard_cell` (or protected in a spreadsheet) holds."""
    return cell[1:] if _guarded(cell) else cell
