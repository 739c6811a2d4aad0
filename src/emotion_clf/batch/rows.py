"""What a source's reader yields: a row to classify, or a bad row saying where and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputRow:
    source: str
    line: int  # line in the file (CSV: where the record starts), or the cue / sentence number
    text: str
    start_s: float | None = None
    end_s: float | None = None


@dataclass(frozen=True)
class BadRow:
    source: str
    line: int  # 0: the source as a whole
    reason: str

    def describe(self) -> str:
        return f"{self.source}" + (f", line {self.line}" if self.line else "") + f": {self.reason}"


Item = InputRow | BadRow
