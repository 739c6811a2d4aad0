"""Key numbers: the few values a report is summarised by on the index page.

A notebook records them explicitly, in its last cell, with :func:`record_key_numbers`. They
travel inside the executed notebook as one display output carrying a vendor MIME type (next
to an HTML table, so the report shows them too); the runner reads them back with
:func:`read_key_numbers`. Nothing is scraped from prose or plots.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import nbformat

KEY_NUMBERS_MIME = "application/vnd.emotion-clf.key-numbers+json"

KeyValue = str | int | float | bool | None
EMPTY = '""'  # how an empty string parameter is shown


def _plain(name: str, value: Any) -> KeyValue:
    """A JSON scalar for ``value``; numpy scalars become Python ones."""
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"key number {name!r} is {value}; record a finite number")
        return value
    raise TypeError(
        f"key number {name!r} is a {type(value).__name__}; "
        "key numbers are strings, numbers, booleans or None"
    )


def format_value(value: KeyValue) -> str:
    """How a key number is shown: floats to three decimals, ``None`` as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def format_parameter(value: object) -> str:
    """How a parameter is shown: as it would be passed (``true``, ``0.0``, ``""``)."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if value != "" else EMPTY


# how the parts of a dotted key read; a part not listed reads with its underscores as spaces
_PARTS = {
    "macro_f1": "macro-F1",
    "weighted_f1": "weighted F1",
    "sub_emotion": "sub-emotion",
    "delta": "Δ",
    "ci95_low": "95% CI low",
    "ci95_high": "95% CI high",
    "mcnemar": "McNemar",
    "live": "live answers",
}
_KEYS = {
    "mcnemar.p": "McNemar exact p",
    "score": "drift score (share of signals)",
    "signals_flagged": "signals flagging drift",
    "drift": "drift found",
    "rows": "rows",
    "seconds": "seconds",
}


def key_label(key: str) -> str:
    """How a key number's name reads on a page: ``test.sub_emotion.macro_f1`` becomes
    ``test sub-emotion macro-F1``, ``delta.emotion.accuracy`` ``Δ emotion accuracy``. The
    dotted key stays the name in ``index.json`` and in the notebook's record."""
    if key in _KEYS:
        return _KEYS[key]
    return " ".join(_PARTS.get(part, part.replace("_", " ")) for part in key.split("."))


def key_numbers_html(numbers: Mapping[str, KeyValue]) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left' title='{html.escape(k)}'>"
        f"{html.escape(key_label(k))}</th>"
        f"<td style='text-align:right'>{html.escape(format_value(v))}</td></tr>"
        for k, v in numbers.items()
    )
    return f"<table class='key-numbers'><caption>Key numbers</caption>{rows}</table>"


def record_key_numbers(numbers: Mapping[str, Any]) -> None:
    """Record a report's key numbers; call it once, in the notebook's last cell.

    Parameters
    ----------
    numbers : mapping of str to scalar
        Names and values (str, int, float, bool or None) in the order they should be shown.

    Raises
    ------
    TypeError, ValueError
        A value is not a JSON scalar, or is not finite.
    """
    from IPython.display import publish_display_data

    plain = {str(k): _plain(str(k), v) for k, v in numbers.items()}
    text = "\n".join(f"{k}: {format_value(v)}" for k, v in plain.items())
    # a list of pairs: nbformat writes JSON with sorted keys, and the order is the author's
    payload = {"items": [[k, v] for k, v in plain.items()]}
    publish_display_data(
        {KEY_NUMBERS_MIME: payload, "text/html": key_numbers_html(plain), "text/plain": text}
    )


def read_key_numbers(notebook: nbformat.NotebookNode) -> dict[str, KeyValue]:
    """The key numbers recorded in an executed notebook (later records win)."""
    found: dict[str, KeyValue] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            payload = data.get(KEY_NUMBERS_MIME)
            if isinstance(payload, Mapping):
                found.update((str(k), v) for k, v in payload.get("items", []))
    return found
