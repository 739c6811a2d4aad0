"""Which tests are ``integration`` tests: ``make test-fast`` leaves them out.

A test is marked here, at collection, from what it uses, so that no list of files has to be
kept up to date:

- a local stand-in of an outside service as a fixture (a real ``mlflow server``, Azurite,
  Azure ML's inference server);
- a notebook (the ``notebook`` marker);
- a process it starts: in the test's own code, its module's fixtures, or the module's helper
  functions they call (followed through the module): ``running_server``, ``run_notebook``,
  anything from ``subprocess``, or a keyword that asks for a child process
  (``run_cli(process=True)``, ``build_app(model_process=True)``, a shadow model);
- a minilm: the session's ``tiny_minilm`` or one the test trains (``train_model("minilm")``,
  ``MiniLMModel(...).fit``, the GoEmotions transfer stage): torch, ONNX Runtime and
  transformers together, seconds per test, where the fast subset's time went mostly.

Everything else runs in this process on tfidf-sized work: the unit tests.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import pytest

STAND_INS = frozenset({"mlflow_server", "azurite", "scoring_server"})
FIXTURES = STAND_INS | {"tiny_minilm"}
MARKERS = frozenset({"notebook"})
# calls that start a process (a real server, a notebook kernel)
PROCESS_CALLS = frozenset({"running_server", "run_notebook", "Popen"})
# keyword arguments that, unless false, ask for a process: the CLI as a subprocess, the model
# in a child process, a shadow model (it predicts in a child process)
PROCESS_KEYWORDS = frozenset({"process", "model_process", "shadow_rate"})
# calls that train a minilm, besides train_model("minilm", ...) and MiniLMModel(...).fit(...)
MINILM_TRAINING = frozenset({"transfer_state"})


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def _starts_work(call: ast.Call) -> bool:
    """Whether this one call starts a process or trains a minilm."""
    func = call.func
    if isinstance(func, ast.Attribute) and _name(func.value) == "subprocess":
        return True
    name = _name(func)
    if name in PROCESS_CALLS:
        return True
    if any(k.arg in PROCESS_KEYWORDS and not _is_false(k.value) for k in call.keywords):
        return True
    if name in MINILM_TRAINING:
        return True
    receiver = func.value if isinstance(func, ast.Attribute) else None
    if name == "fit" and isinstance(receiver, ast.Call) and _name(receiver.func) == "MiniLMModel":
        return True
    family = call.args[0] if call.args else None
    return name == "train_model" and isinstance(family, ast.Constant) and family.value == "minilm"


class _Scan:
    """Reads functions of one test module, following the calls to the module's own
    functions; remembers each answer."""

    def __init__(self) -> None:
        self.answers: dict[Callable[..., Any], bool] = {}

    def __call__(self, func: Callable[..., Any], module: ModuleType) -> bool:
        if func in self.answers:
            return self.answers[func]
        self.answers[func] = False  # a cycle back to this function finds nothing new
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        except (OSError, TypeError, SyntaxError):
            return False
        found = False
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if _starts_work(node):
                found = True
                break
            name = _name(node.func)
            helper = getattr(module, name, None) if name else None
            if not inspect.isfunction(helper) or helper.__module__ != module.__name__:
                continue
            if self(helper, module):
                found = True
                break
        self.answers[func] = found
        return found


def _module_fixtures(item: pytest.Function) -> Iterable[Callable[..., Any]]:
    """The fixture functions the test uses that its own module defines."""
    info = getattr(item, "_fixtureinfo", None)
    for definitions in getattr(info, "name2fixturedefs", {}).values():
        for definition in definitions:
            func = getattr(definition, "func", None)
            if func is not None and getattr(func, "__module__", None) == item.module.__name__:
                yield func


def is_integration(item: pytest.Item, scan: Callable[..., bool]) -> bool:
    if MARKERS.intersection(m.name for m in item.iter_markers()):
        return True
    if FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    if not isinstance(item, pytest.Function) or item.module is None:
        return False
    functions = [item.function, *_module_fixtures(item)]
    return any(scan(func, item.module) for func in functions)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    scan = _Scan()
    for item in items:
        if "integration" not in item.keywords and is_integration(item, scan):
            item.add_marker(pytest.mark.integration)
