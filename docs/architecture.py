"""Draw docs/architecture.md's picture from the code: the import graph of
formcheck's folders, read from every import statement (those inside
functions too), so the picture cannot drift from what the code does.

    python docs/architecture.py            # print the diagram
    python docs/architecture.py --write    # put it into docs/architecture.md

tests/test_architecture.py checks that the document holds the diagram this
prints and that the graph has no circle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "formcheck"
DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- import graph: begin -->", "<!-- import graph: end -->"

# Modules at the package root that are floors of their own (`python -m
# formcheck` is the command line); the rest of the root (__init__, errors,
# log) is the foundation every floor may use.
ROOT_UNITS = {"analyze": "analyze", "__main__": "cli"}
FOUNDATION = "foundation"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """The formcheck modules one file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("formcheck"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("formcheck"):
            for a in node.names:  # `from formcheck.pose import extract` imports a module
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in known else node.module)
    return found


def module_graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path, set(mods)) - {name} for name, path in mods.items()}


def unit(module: str) -> str:
    """The floor a module belongs to: its folder, or itself at the root."""
    parts = module.split(".")
    if len(parts) == 1:
        return FOUNDATION
    if parts[1] in ROOT_UNITS:
        return ROOT_UNITS[parts[1]]
    if (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return FOUNDATION


def unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for mod, deps in module_graph().items():
        graph.setdefault(unit(mod), set()).update(unit(d) for d in deps)
    return {u: deps - {u} for u, deps in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def floors(graph: dict[str, set[str]]) -> list[list[str]]:
    """Units by floor: a unit sits one floor above the highest it imports."""
    level: dict[str, int] = {}

    def height(u: str) -> int:
        if u not in level:
            level[u] = 0  # guards a circle; cycles() reports it
            level[u] = 1 + max((height(d) for d in graph.get(u, ())), default=-1)
        return level[u]

    for u in graph:
        height(u)
    return [sorted(u for u in graph if level[u] == n) for n in range(max(level.values()) + 1)]


def diagram() -> str:
    """A Mermaid flowchart, top floor first, each arrow to what a folder
    imports directly (arrows implied by a longer path are left out)."""
    graph = unit_graph()

    def reaches(a: str, b: str) -> bool:  # b reachable from a other than by the edge a -> b
        seen, todo = set(), [d for d in graph[a] if d != b]
        while todo:
            u = todo.pop()
            if u == b:
                return True
            if u not in seen:
                seen.add(u)
                todo.extend(graph.get(u, ()))
        return False

    lines = ["```mermaid", "flowchart TD"]
    for n, floor in reversed(list(enumerate(floors(graph)))):
        lines.append(f"    %% floor {n}")
        for u in floor:
            if not graph[u] and not any(u in deps for deps in graph.values()):
                lines.append(f"    {u}")  # imports nothing and is imported by nothing in the package
            for d in sorted(graph[u]):
                if not reaches(u, d):
                    lines.append(f"    {u} --> {d}")
    lines.append("```")
    return "\n".join(lines)


def write() -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{diagram()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        print(diagram())
