"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``): how to send the transcript media types.

The OpenAPI document states SRT and WebVTT bodies as strings; schemathesis needs to be told
that such a string is sent as its UTF-8 bytes.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/x-subrip", "text/vtt")
def as_text(ctx: Any, value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(str(value), "utf-8")
