"""Helpers for the notebook tests: the project's notebooks and Makefile, a kernel environment."""

from __future__ import annotations

import os
import re
from pathlib import Path

import emotion_clf
from emotion_clf.config import project_root

NOTEBOOKS = project_root() / "notebooks"
MAKEFILE = project_root() / "Makefile"
PACKAGE_PARENT = Path(emotion_clf.__file__).resolve().parents[1]


def kernel_pythonpath() -> str:
    """PYTHONPATH for the kernel, so that it imports the package under test."""
    current = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(p for p in (str(PACKAGE_PARENT), current) if p)


def make_defaults(text: str) -> dict[str, str]:
    """``VAR ?= value`` assignments of a Makefile."""
    found = {}
    for match in re.finditer(r"^([A-Z_]+)\s*\?=[ \t]*(.*)$", text, flags=re.M):
        found[match.group(1)] = match.group(2).strip()
    return found


def make_report_calls(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """target -> (notebook, {parameter: value}) for each recipe line running ``$(REPORT)``.

    Make variables in values are replaced by their ``?=`` defaults, quotes removed.
    """
    defaults = make_defaults(text)
    calls: dict[str, tuple[str, dict[str, str]]] = {}
    target = None
    for line in text.splitlines():
        head = re.match(r"^([a-zA-Z0-9_-]+):", line)
        if head:
            target = head.group(1)
            continue
        recipe = re.match(r"^\t@?\$\(REPORT\)\s+(\S+)(.*)$", line)
        if recipe and target:
            pairs = re.findall(r"-p\s+(\S+)\s+(\"[^\"]*\"|\S+)", recipe.group(2))
            params = {
                name: re.sub(
                    r"\$\(([A-Z_]+)\)", lambda m: defaults.get(m.group(1), ""), value
                ).strip('"')
                for name, value in pairs
            }
            calls[target] = (recipe.group(1), params)
    return calls


def literal_type(text: str) -> str:
    """The type a command-line value reads as: bool, int, float or str."""
    if text.lower() in ("true", "false"):
        return "bool"
    for kind, convert in (("int", int), ("float", float)):
        try:
            convert(text)
        except ValueError:
            continue
        return kind
    return "str"
