"""The settings reference, generated from the settings model so the docs cannot drift from
the code: every variable, its type, default and description, section by section."""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from emotion_clf.config.sections import Section
from emotion_clf.config.settings import PREFIX, SECTIONS, Settings, env_name, legacy_names

INTRO = """\
# Settings reference

Every setting is an environment variable (or a line of a `.env` file in the working
directory); the environment wins over `.env`. Durations are in seconds (`_S`), lists are
comma-separated. In code, settings come in sections: `settings.serving.poll_s` is
`EMOTION_CLF_POLL_S`. Older names listed under a variable are still read; the new name wins.

This page is generated from `src/emotion_clf/config/` by `emotion-clf settings --markdown`;
a test fails when it differs from the code.
"""


def _type(info: FieldInfo) -> str:
    text = re.sub(r"typing\.|pathlib\.|pydantic\.types\.", "", str(info.annotation))
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text).replace("NoneType", "None")
    text = text.replace("Annotated[list[", "list[").replace("Literal[", "one of [")
    return re.sub(r", BeforeValidator\(.*?\)\]", "]", text).replace(" | None", " (optional)")


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "required"
    else:
        value = info.default
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, list):
        return "`" + ",".join(map(str, value)) + "`" if value else "empty"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


def _rows(
    section: type[Section] | None, fields: dict[str, FieldInfo], key: str | None
) -> list[str]:
    rows = ["| variable | in code | type | default | description |", "|---|---|---|---|---|"]
    for name, info in fields.items():
        variable = f"`{PREFIX}{env_name(section, name, info)}`"
        legacy, _ = legacy_names(info)
        if legacy:
            variable += "<br>(also " + ", ".join(f"`{PREFIX}{n}`" for n in legacy) + ")"
        where = f"`{key}.{name}`" if key else f"`{name}`"
        default = "the project folder" if name == "home" else _default(info)
        description = (info.description or "").replace("|", "\\|")
        rows.append(f"| {variable} | {where} | {_type(info)} | {default} | {description} |")
    return rows


def settings_reference() -> str:
    """The reference page, as Markdown."""
    top = {k: v for k, v in Settings.model_fields.items() if k not in SECTIONS}
    parts = [INTRO, "## Workspace\n", *_rows(None, top, None), ""]
    for key, section in SECTIONS.items():
        parts += [f"## {section.TITLE} (`{key}`)\n", *_rows(section, section.model_fields, key)]
        parts.append("")
    return "\n".join(parts)
