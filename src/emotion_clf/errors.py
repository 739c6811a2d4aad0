"""The package's exceptions: one root, subclasses carrying structured fields.

Entry points (the CLI, the HTTP app) catch :class:`EmotionClfError` and show its message;
anything else is a bug and keeps its traceback in the logs. An error speaks at three levels:
``message`` to anyone (an API answer shows it, as ``public``); ``where`` (a file path, a URI
without credentials) to whoever runs the machine: the CLI and logs add it; ``detail``
(a library's own words: SQL, its URLs) to whoever debugs: logs, and the CLI only at
``--log-level debug``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class EmotionClfError(Exception):
    """Root of every error this package raises on purpose.

    ``exit_code`` is what the CLI exits with, ``http_status`` what the API answers.
    """

    exit_code: int = 1
    http_status: int = 400

    def __init__(
        self, message: str = "", *, detail: str | None = None, where: str | None = None
    ) -> None:
        self.message = message
        self.detail = detail  # a library's own text: logs, and the CLI at debug level
        self.where = where  # where it happened (a path): logs and the CLI, never an API answer
        text = f"{message}: {where}" if where else message
        super().__init__(f"{text} ({detail})" if detail else text)

    @property
    def public(self) -> str:
        """The message without ``where`` and ``detail``: what an API client may be shown."""
        return self.message if self.detail or self.where else str(self)


class ConfigError(EmotionClfError):
    """A setting is missing or invalid."""

    exit_code = 2


class FeatureUnavailableError(ConfigError):
    """An optional part (an extra, a tool) that this installation does not have."""

    http_status = 501


class DataError(EmotionClfError):
    """Input data is malformed; names the file, line, field and allowed values where known."""

    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        value: str | None = None,
        allowed: Sequence[str] | None = None,
    ) -> None:
        self.reason = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.value = value
        self.allowed = tuple(allowed) if allowed is not None else None
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f", line {self.line}" if self.line is not None else "")
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        text = where + self.reason
        if self.allowed is not None:
            text += f" (allowed values: {', '.join(self.allowed)})"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "message": str(self),
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "value": self.value,
            "allowed": list(self.allowed) if self.allowed is not None else None,
        }


class BundleError(EmotionClfError):
    """A model bundle is missing, incompatible or has been tampered with."""

    http_status = 409


class ModelNotFoundError(EmotionClfError):
    """A model reference (path, designation, version) resolves to nothing."""

    http_status = 404


class RegistryError(EmotionClfError):
    """The model registry refused an operation or is in an unexpected state."""

    http_status = 409


class RegistryUnavailableError(RegistryError):
    """The model registry cannot be reached.

    Its own exit code, 4, so a scheduled command tells "the registry is down, missing or
    damaged" from a failure of its own work (1) or a bad setting (2).
    """

    exit_code = 4
    http_status = 503


class RegistryStoreError(RegistryUnavailableError):
    """The registry's store cannot be read: missing, corrupt, not a registry, another schema.

    ``where`` names the store (the SQLite file): a command that only reads never creates
    one, so a store that is lost or not mounted is this error, not a new empty registry.
    """


class DesignationConflictError(RegistryError):
    """A designation moved between reading it and setting it; nothing was changed."""

    def __init__(self, designation: str, *, expected: str | None, actual: str | None) -> None:
        self.designation = designation
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{designation} points at {_version(actual)}, not {_version(expected)} as expected"
        )


def _version(version: str | None) -> str:
    return f"v{version}" if version else "no version"


class PromotionError(EmotionClfError):
    """A promotion or rollback could not be carried out; nothing was changed."""

    http_status = 409


class PromotionConflictError(PromotionError):
    """Another promotion changed the registry first; this one changed nothing."""


class GateHeldError(PromotionError):
    """The gate held the candidate back; carries the decision with its reasons."""

    def __init__(self, message: str, *, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__(message + "".join(f"\n  - {r}" for r in self.reasons))


class ModelUnavailableError(EmotionClfError):
    """No model is loaded (the server keeps trying)."""

    http_status = 503


class CloudError(EmotionClfError):
    """A call to a cloud service (Azure) failed; the message names the call and the answer."""

    http_status = 502


class NotebookError(EmotionClfError):
    """A notebook run failed; the report was not published."""


class StorageError(EmotionClfError):
    """A file the server must write could not be written (a read-only or failing disk).

    ``kept`` says whether what the client sent is stored anyway (in quarantine): the answer
    states it, so a client knows whether to send it again.
    """

    http_status = 503

    def __init__(self, message: str, *, kept: bool = False, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.kept = kept

    def details(self) -> dict[str, object]:
        return {"kept": self.kept}


class StorageFullError(StorageError):
    """The disk is full (ENOSPC): answered 507 Insufficient Storage, so a client knows that
    sending the same request again at once will not help."""

    http_status = 507
