"""Command groups imported when the command line uses them.

Typer turns the whole command tree into click commands at every start, so every group's module
is imported, and with it what that module imports: the ``azure`` groups bring the Azure SDK
wrappers, deployment specs and health checks. :func:`lazy_groups` makes the root group class of
an app whose sub-groups are named, not imported: a group's module is imported when the command
line names it, or when ``--help`` or shell completion lists every command, so ``emotion-clf
predict`` imports what ``predict`` needs and nothing else (``tests/cli/test_startup.py``).

A lazy group is built exactly as ``app.add_typer(group_app, name=name)`` would build it, with
the root's help markup and command suggestions, and listed in the table's order after the
root's own commands (where ``add_typer`` puts groups too).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar

import typer
import typer.main
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer import _click  # typer's own copy of click: what a group's commands are


def import_app(target: str) -> typer.Typer:
    """The :class:`typer.Typer` named by ``"package.module:attribute"``."""
    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if not isinstance(found, typer.Typer):
        raise TypeError(f"{target} is a {type(found).__name__}, not a typer.Typer")
    return found


class LazyCommands(MutableMapping[str, "_click.Command"]):
    """A group's commands by name: the built ones, and the lazy groups built on first access
    (``None`` until then). Iteration keeps insertion order, lazy names included."""

    def __init__(
        self, built: Mapping[str, _click.Command], names: Mapping[str, str], group: LazyGroup
    ) -> None:
        self._commands: dict[str, _click.Command | None] = dict(built)
        for name in names:
            self._commands.setdefault(name, None)
        self._names = dict(names)
        self._group = group

    def __getitem__(self, name: str) -> _click.Command:
        command = self._commands[name]  # KeyError for an unknown name, as a dict
        if command is None:
            command = self._group.build(name, self._names[name])
            self._commands[name] = command
        return command

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._commands[name] = command

    def __delitem__(self, name: str) -> None:
        del self._commands[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._commands)

    def __len__(self) -> int:
        return len(self._commands)

    def __contains__(self, name: object) -> bool:
        return name in self._commands  # without building it


class LazyGroup(TyperGroup):
    """A :class:`~typer.core.TyperGroup` whose :attr:`lazy` sub-groups (name ->
    ``"module:attribute"`` of a Typer app) are imported and built on first use."""

    lazy: ClassVar[Mapping[str, str]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands, self.lazy, self)

    def build(self, name: str, target: str) -> _click.Command:
        """The click group of ``target``'s app, as ``add_typer(app, name=name)`` makes it."""
        holder = typer.Typer(
            rich_markup_mode=self.rich_markup_mode,
            suggest_commands=self.suggest_commands,
            add_completion=False,
        )
        holder.add_typer(import_app(target), name=name)
        built = typer.main.get_group(holder).commands[name]
        return built


def lazy_groups(**groups: str) -> type[LazyGroup]:
    """A root group class (``typer.Typer(cls=...)``) with the sub-groups ``name="module:app"``
    imported on first use."""
    return type("LazyGroups", (LazyGroup,), {"lazy": dict(groups)})
