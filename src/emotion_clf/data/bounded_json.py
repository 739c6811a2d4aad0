"""JSON from a client, parsed within bounds: every failure is a :class:`DataError`, never a crash.

:func:`json.loads` alone fails badly on inputs a client can send within any body size limit:

- 100,000 nested arrays (200 KB) raise :class:`RecursionError` from the C scanner, and a
  structure nested a few hundred deep still parses, only to exhaust the stack of the next
  recursive walk (a check for lone surrogates, :func:`json.dumps` when it is written);
- a 5,000-digit integer raises a plain :class:`ValueError` (Python's limit on int-str
  conversion, 4,300 digits), which is not a :class:`json.JSONDecodeError`;
- ``1e999`` parses to ``inf`` and ``NaN`` / ``Infinity`` are accepted, though JSON has
  neither, and a file written with them is not JSON any more.

So the nesting depth is measured before parsing (:func:`nesting_depth`, in C-speed bytes
operations), numbers are parsed by hooks that refuse long or non-finite ones, and the non-JSON
constants are refused.
"""

from __future__ import annotations

import json
import math
from typing import Any

from emotion_clf.errors import DataError

#: a feedback submission is 3 levels deep (body, items, item); this leaves room for extras
MAX_DEPTH = 32
#: the longest number, in characters: no count or time needs more
MAX_NUMBER_CHARS = 64

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


class _Refused(ValueError):
    """Raised by a parse hook; carries the reason to the caller."""


def nesting_depth(body: bytes, *, limit: int) -> int:
    """How deep arrays and objects nest in the JSON text ``body``, exactly up to ``limit``
    (a result above it means "deeper"); for text that is not JSON, at least how deep a parser
    goes before it fails.

    Every step is a bytes method, at C speed (a loop in Python over each bracket of a
    megabyte of ``[],`` costs more than parsing it): escapes and strings are dropped (JSON's
    escapes read left to right, so ``\\\\`` pairs go before ``\\"``), the brackets kept and
    made one kind, then each pass of ``replace("[]", "")`` removes exactly one level.
    """
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    brackets = outside.translate(_ONE_KIND, _NOT_BRACKETS)
    for level in range(limit + 1):
        if not brackets:
            return level
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):  # unbalanced: "]]][[[" is left, the "[" unclosed
            return max(level, brackets.count(b"["))
        brackets = shorter
    return limit + 1


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            f"a number in the body has {len(text)} digits; at most {MAX_NUMBER_CHARS} are read"
        )
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            f"a number in the body is {len(text)} characters long; at most "
            f"{MAX_NUMBER_CHARS} are read"
        )
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text} is out of range (beyond a 64-bit float)")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def loads_bounded(body: bytes | str, *, max_depth: int = MAX_DEPTH, field: str = "body") -> Any:
    """Parse UTF-8 JSON (a BOM allowed); any failure is a DataError naming ``field``."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the {field} is not UTF-8 text ({exc.reason} at byte {exc.start})", field=field
        ) from exc
    depth = nesting_depth(raw, limit=max_depth)
    if depth > max_depth:
        raise DataError(
            f"the {field} nests arrays or objects more than {max_depth} levels deep", field=field
        )
    try:
        return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise DataError(f"the {field} is not JSON ({exc})", field=field) from exc
    except _Refused as exc:
        raise DataError(f"{exc}", field=field) from exc
    except RecursionError as exc:  # not reached after the depth check; kept as a backstop
        raise DataError(f"the {field} nests too deeply", field=field) from exc
