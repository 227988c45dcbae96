"""The import graph of portal/ follows the layer table in README.md: no import points up, no cycle, and no import
hides inside a function unless a comment says why."""

from __future__ import annotations

import ast
import re
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "portal"


def layer_table() -> list[tuple[str, list[str]]]:
    """(layer name, module patterns) from the table under "### Layers" in README.md, top layer first."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Layers", 1)[1].split("\n### ", 1)[0]
    layers = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and re.match(r"\d+ ", cells[0]):
            layers.append((cells[0], re.findall(r"`([^`]+)`", cells[1])))
    return layers


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# Package __init__ files below portal/ hold only a docstring; portal/__init__.py builds the app on demand.
MODULES = {
    module_name(path): path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" or path.parent == PACKAGE
}


def _under_type_checking(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(module: str) -> list[tuple[str, ast.stmt, bool]]:
    """(imported portal module, the statement, whether it sits at module level) for each import."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or _under_type_checking(node, parents):
            continue
        top_level = isinstance(parents.get(node), ast.Module)
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        found += [(name, node, top_level) for name in names if name == "portal" or name.startswith("portal.")]
    return found


def _precedence(pattern: str) -> int:
    """An exact name first, then a pattern for a kind of module (portal.*.models), then one for a package."""
    if "*" not in pattern:
        return 0
    return 1 if pattern.startswith("portal.*.") else 2


def layer_of(module: str, layers) -> int:
    """The first row from the top that names the module, by the precedence above."""
    for precedence in (0, 1, 2):
        for index, (_, patterns) in enumerate(layers):
            for pattern in patterns:
                if _precedence(pattern) == precedence and fnmatchcase(module, pattern):
                    return index
    raise AssertionError(f"{module} is in no layer of the table in README.md")


def test_the_layer_table_is_in_the_readme_and_covers_every_module():
    layers = layer_table()
    assert len(layers) >= 8
    unplaced = []
    for module in MODULES:
        try:
            layer_of(module, layers)
        except AssertionError:
            unplaced.append(module)
    assert unplaced == []


def test_no_module_imports_from_a_layer_above_its_own():
    layers = layer_table()
    upward = []
    for module in MODULES:
        for target, node, _ in imports_of(module):
            if target == module:
                continue
            if layer_of(target, layers) < layer_of(module, layers):
                upward.append(
                    f"{module} (line {node.lineno}) imports {target}: "
                    f"{layers[layer_of(module, layers)][0]} -> {layers[layer_of(target, layers)][0]}"
                )
    assert upward == []


def test_the_import_graph_has_no_cycle():
    graph = {module: {target for target, _, _ in imports_of(module) if target != module} for module in MODULES}
    # portal/__init__.py builds the app on demand; every module sits under it, which is not a cycle of theirs.
    graph["portal"] = set()
    visiting, done, cycles = set(), set(), []

    def visit(module, path):
        visiting.add(module)
        for target in sorted(graph.get(module, ())):
            if target in visiting:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in done:
                visit(target, [*path, target])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []


def test_an_import_inside_a_function_says_why():
    unexplained = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or isinstance(parents.get(node), ast.Module):
                continue
            if _under_type_checking(node, parents):
                continue
            nearby = lines[node.lineno - 2 : node.lineno]
            if not any("#" in line for line in nearby):
                unexplained.append(f"{module}:{node.lineno}")
    assert unexplained == []
