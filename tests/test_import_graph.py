"""The project's modules import one another without a circle, and the framework layer
(``blog_project``) imports no app except in ``urls.py``.

Imports are read with ``ast`` from every module of the apps and ``blog_project``, at module
level and inside functions alike: an import hidden in a function still closes a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("articles", "comments", "stats", "transfer")
PACKAGES = ("blog_project", *APPS)
# The one module of the framework layer that may name the apps: it mounts their URLs.
FRAMEWORK_MAY_IMPORT_APPS: set[str] = set()  # urls.py includes the apps' URLs by name


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        root = ROOT / package
        if not root.is_dir():  # a plugin removed from this checkout
            continue
        for path in root.rglob("*.py"):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            modules[_module_name(path)] = path
    return modules


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that ``module`` imports (``from x import y`` counts ``x.y`` when
    ``y`` is a module, else ``x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            names = [
                f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            # `import a.b.c` runs a, a.b and a.b.c; the deepest project module is the edge.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _project_modules()
    known = set(modules)
    return {module: _imported(module, path, known) for module, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _edges_within(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    members = set(component)
    return sorted(f"{a} -> {b}" for a in component for b in graph[a] & members)


def test_the_graph_sees_imports_at_module_level_and_inside_functions():
    graph = _graph()
    # listings imports models at the top; a package's __init__ imports its own modules.
    assert "articles.models" in graph["articles.listings"]
    assert "blog_project.caching.pages" in graph["blog_project.caching"]
    assert "blog_project.health" in graph["blog_project.urls"]


def test_a_circle_is_found_with_its_edges():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _edges_within(graph, ["a", "b", "c"]) == ["a -> b", "b -> c", "c -> a"]


def test_no_import_circle():
    graph = _graph()
    circles = [_edges_within(graph, component) for component in _cycles(graph)]
    assert circles == []


def test_framework_layer_imports_no_app_outside_urls():
    graph = _graph()
    arrows = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith("blog_project") and module not in FRAMEWORK_MAY_IMPORT_APPS
        for target in targets
        if target.partition(".")[0] in APPS
    )
    assert arrows == []
