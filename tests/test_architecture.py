"""The package's boundaries, checked from its source: who may import whom, sizes, faces.

``python -m tests.test_architecture`` prints the table of packages (files, lines, what each
imports) that the architecture notes quote.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import emotion_clf

SRC = Path(emotion_clf.__file__).resolve().parent

# Lower layers never import higher ones. Within a layer, units do not import each other.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"version", "errors", "files", "contracts", "lazy"}),
    frozenset({"config", "client", "urls"}),
    frozenset({"data"}),
    frozenset({"evaluation", "speech"}),
    frozenset({"models"}),
    frozenset({"training", "batch", "checks"}),
    frozenset({"registry"}),
    frozenset({"promotion", "monitoring", "pipeline"}),
    frozenset({"serving", "reports", "azure"}),
    frozenset({"cli"}),
)
# Inside serving, the HTTP shell runs models through the runtime, never the reverse, and the
# runtime imports no web framework.
SERVING_LAYERS = ("runtime", "http")
WEB_FRAMEWORKS = ("fastapi", "starlette")
FACE = "emotion_clf"  # the package's own __init__ and __main__: they may import anything
MAX_LINES = 400


@dataclass
class Unit:
    files: int = 0
    lines: int = 0
    imports: set[str] = field(default_factory=set)


def unit_of(path: Path) -> str:
    """The first name under ``emotion_clf`` (a sub-package or a top-level module)."""
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[0] in ("__init__", "__main__"):
        return FACE
    return parts[0]


def imported_units(tree: ast.AST) -> set[str]:
    """Every ``emotion_clf`` unit a module imports, at any depth (lazy and typing imports too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] != "emotion_clf":
                continue
            if len(parts) == 1:
                found.add(FACE)
            elif (SRC / parts[1]).is_dir() or (SRC / f"{parts[1]}.py").is_file():
                found.add(parts[1])
    return found


def import_graph() -> dict[str, Unit]:
    units: dict[str, Unit] = defaultdict(Unit)
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        unit = units[unit_of(path)]
        unit.files += 1
        unit.lines += len(text.splitlines())
        unit.imports |= imported_units(ast.parse(text)) - {unit_of(path)}
    return dict(units)


def layer_of(unit: str) -> int:
    for index, layer in enumerate(LAYERS):
        if unit in layer:
            return index
    raise AssertionError(f"{unit!r} is in no layer of tests/test_architecture.py: place it")


def arrows_up() -> list[str]:
    """Imports between units that do not point down a layer."""
    return [
        f"{unit} (layer {layer_of(unit)}) imports {target} (layer {layer_of(target)})"
        for unit, info in import_graph().items()
        if unit != FACE
        for target in sorted(info.imports)
        if target == FACE or layer_of(target) >= layer_of(unit)
    ]


def test_every_import_points_down_a_layer() -> None:
    assert arrows_up() == []


def module_graph() -> dict[str, set[str]]:
    """Module -> the ``emotion_clf`` modules it imports. A package's face (its
    ``__init__``) importing its own modules is how faces work, so those edges are left out."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        module = ".".join(("emotion_clf", *path.relative_to(SRC).with_suffix("").parts))
        module = module.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    full = SRC.joinpath(*f"{node.module}.{alias.name}".split(".")[1:])
                    is_module = full.with_suffix(".py").is_file() or full.is_dir()
                    targets.append(f"{node.module}.{alias.name}" if is_module else node.module)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if not target.startswith("emotion_clf"):
                    continue
                if path.name == "__init__.py" and target.startswith(module + "."):
                    continue
                edges[module].add(target)
    return edges


def test_no_module_imports_in_a_circle() -> None:
    """Cycles between modules, lazy imports included (they hide a circle from Python)."""
    assert import_cycles() == []


def import_cycles() -> list[str]:
    edges = module_graph()
    state: dict[str, str] = {}
    path: list[str] = []
    cycles: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)
    return cycles


def serving_part(module: str) -> str | None:
    """``runtime`` or ``http`` for a module under ``emotion_clf.serving``, else None."""
    parts = module.split(".")
    if parts[:2] != ["emotion_clf", "serving"] or len(parts) < 3:
        return None
    return parts[2] if parts[2] in SERVING_LAYERS else None


def serving_arrows_up() -> list[str]:
    """Imports from ``serving.runtime`` up into ``serving.http`` (or the serving face)."""
    wrong = []
    for module, targets in module_graph().items():
        if serving_part(module) != "runtime":
            continue
        for target in sorted(targets):
            part = serving_part(target)
            if target in ("emotion_clf.serving", "emotion_clf") or (
                part is not None and SERVING_LAYERS.index(part) > 0
            ):
                wrong.append(f"{module} imports {target}")
    return wrong


def web_imports_in_runtime() -> list[str]:
    """Modules under ``serving/runtime/`` that import FastAPI or Starlette (lazily too)."""
    found = []
    for path in sorted((SRC / "serving" / "runtime").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.split(".")[0] in WEB_FRAMEWORKS:
                    found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


def test_the_serving_runtime_imports_no_web_framework() -> None:
    assert web_imports_in_runtime() == []


def test_the_serving_runtime_never_imports_the_http_shell() -> None:
    assert serving_arrows_up() == []


def test_mlflow_is_imported_only_by_the_registry() -> None:
    pattern = re.compile(r"^\s*(import mlflow|from mlflow)", re.MULTILINE)
    outside = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
        and p.relative_to(SRC).parts[0] != "registry"
    ]
    assert outside == []


def oversized() -> dict[str, int]:
    return {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }


def test_no_module_is_over_the_size_limit() -> None:
    assert oversized() == {}


def lazy_names(tree: ast.Module) -> set[str]:
    """The keys of a lazy face's ``_LAZY = {name: module}`` table (see ``emotion_clf.lazy``)."""
    for node in tree.body:
        if (
            isinstance(node, ast.AnnAssign | ast.Assign)
            and isinstance(target := getattr(node, "target", None) or node.targets[0], ast.Name)
            and target.id == "_LAZY"
            and node.value is not None
        ):
            return set(ast.literal_eval(node.value))
    return set()


def test_every_package_has_a_face() -> None:
    """An ``__init__.py`` whose ``__all__`` names only what it defines or imports."""
    for init in sorted(SRC.rglob("__init__.py")):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        exported = next(
            (
                ast.literal_eval(node.value)
                for node in tree.body
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            ),
            None,
        )
        where = init.relative_to(SRC.parent)
        if init.parent.name == "routes":
            assert exported == ["api_router"], where
            continue
        assert exported, f"{where} has no __all__"
        bound = (
            {
                alias.asname or alias.name
                for node in tree.body
                if isinstance(node, ast.ImportFrom)
                for alias in node.names
            }
            | {
                t.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            }
            | {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
            | lazy_names(tree)
        )
        assert set(exported) <= bound, f"{where}: {sorted(set(exported) - bound)}"


def test_the_readme_layout_names_every_package() -> None:
    readme = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    packages = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))
    assert [p for p in packages if f"{p}/" not in layout] == []


def main() -> None:
    graph = import_graph()
    order = sorted(graph, key=lambda u: (-1 if u == FACE else layer_of(u), u))
    print("| unit | layer | files | lines | imports |\n|---|---|---|---|---|")
    for unit in order:
        info = graph[unit]
        layer = "-" if unit == FACE else str(layer_of(unit))
        imports = ", ".join(sorted(info.imports)) or "-"
        print(f"| {unit} | {layer} | {info.files} | {info.lines} | {imports} |")
    edges = sum(len(u.imports) for u in graph.values())
    print(
        f"\n{sum(u.files for u in graph.values())} files, "
        f"{sum(u.lines for u in graph.values())} lines, {edges} import edges between units\n"
    )
    checks = {
        "imports of fastapi or starlette under serving/runtime/": web_imports_in_runtime(),
        "arrows from serving/runtime/ up to serving/http/": serving_arrows_up(),
        "arrows that run up a layer": arrows_up(),
        "circles between modules": import_cycles(),
        f"modules over {MAX_LINES} lines": [f"{k} ({v})" for k, v in oversized().items()],
    }
    for what, found in checks.items():
        print(f"{len(found)} {what}" + "".join(f"\n  - {item}" for item in found))


if __name__ == "__main__":
    main()
