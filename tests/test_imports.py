"""The package's imports run in one direction, and no module imports itself back.

The layers, bottom first (a module may import its own layer and those below, never above):
the foundations (errors, configs, the checkpoint format, the process pool, progress bars) →
``chem`` → ``data`` → ``nn`` → ``models`` → ``sampling`` → ``training`` → ``evaluation`` /
``search`` → ``serve`` → ``cli``. Every import counts, those inside functions too; only imports
under ``if TYPE_CHECKING:`` (annotations) are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "moldojo"

LAYERS: list[set[str]] = [
    {"_version", "_json", "errors", "config", "checkpoint", "parallel", "progress",
     "distributed"},
    {"chem"},
    {"data"},
    {"nn"},
    {"models"},
    {"sampling"},
    {"training"},
    {"evaluation", "search", "hamd"},
    {"serve"},
    {"cli"},
    {"__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = ("moldojo", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> set[str]:
    """The ``moldojo`` modules ``path`` imports (``from a import b`` counts ``a.b`` when that is
    a module of the package, else ``a``)."""
    tree = ast.parse(path.read_text())
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("moldojo"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1],
                                 *([base] if base else [])])  # fmt: skip
            if base.startswith("moldojo"):
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    out.add(sub if sub in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


FILES = sorted(SRC.rglob("*.py"))
MODULES = {module_name(p) for p in FILES}
# The package's face ``moldojo/__init__.py`` imports ``moldojo.load`` on first use, from the top
# layer: it is no node of the graph, and no module may import it (the version is
# ``moldojo._version``'s).
GRAPH = {module_name(p): imports_of(p) - {module_name(p)} for p in FILES
         if module_name(p) != "moldojo"}  # fmt: skip


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_top_level_module_has_a_layer() -> None:
    unplaced = sorted({layer(m) for m in MODULES} - set(RANK) - {""})
    assert not unplaced, f"place these in LAYERS: {unplaced}"


def test_no_module_imports_the_package_face() -> None:
    importers = sorted(module for module, targets in GRAPH.items() if "moldojo" in targets)
    assert not importers, f"import from moldojo's modules, not from moldojo itself: {importers}"


def test_no_upward_import() -> None:
    upward = []
    for module, targets in GRAPH.items():
        for target in targets - {"moldojo"}:
            if RANK[layer(target)] > RANK[layer(module)]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that climb a layer:\n" + "\n".join(sorted(upward))


def test_no_cycle() -> None:
    # Tarjan's strongly connected components; any component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            connect(v)
    assert not cycles, f"modules that import each other in a loop: {cycles}"


@pytest.mark.parametrize("kind", ["two-step", "hier", "atom"])
def test_no_dispatch_on_a_kind_name_outside_the_registry(kind: str) -> None:
    # Given every source file but the registry and the families' own packages
    family = {"two-step": "two_step", "hier": "hier", "atom": "atom"}[kind]
    offenders = []
    for path in FILES:
        rel = path.relative_to(SRC).as_posix()
        # (chem sits below the models and cannot know their kinds; its motif kind "atom" is
        # another thing)
        if rel == "models/registry.py" or rel.startswith((f"models/{family}/", "chem/")):
            continue
        # Then none compares a kind, a model name or a config's model with that kind's name
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and c.value == kind
                for c in [node.left, *node.comparators]
            ):
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, f"'== {kind!r}' dispatch outside the registry: {offenders}"
