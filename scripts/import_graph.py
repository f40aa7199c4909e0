"""The package import graph of studykb, read from the code's own imports (ast, no import runs).

    python scripts/import_graph.py            # the Mermaid graph docs/architecture.md embeds

LAYERS is the plan: a package may import its own modules and those of lower layers, never a higher
layer and never a sibling on its own layer (tests/test_structure.py checks every import against it).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# lowest first; each entry: the packages (or single modules) on that floor
LAYERS: list[tuple[str, ...]] = [
    ("ingest",),
    ("kb.errors",),
    ("kb.language",),
    ("kb.types", "kb.config", "kb.client"),
    ("kb.store", "kb.models"),
    ("kb.search",),
    ("kb.library",),
    ("kb.export",),
    ("kb.server",),
    ("kb.cli",),
    ("webapp",),
    ("app",),
]


def unit_of(module: str) -> str | None:
    """The LAYERS entry a module belongs to (kb.search.rank → kb.search), or None when outside."""
    best = None
    for layer in LAYERS:
        for unit in layer:
            if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best)):
                best = unit
    return best


def layer_of(unit: str) -> int:
    return next(n for n, layer in enumerate(LAYERS) if unit in layer)


def modules() -> dict[str, Path]:
    """Every project module by dotted name."""
    found = {"app": ROOT / "app.py"}
    for package in ("ingest", "kb", "webapp"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path) -> set[str]:
    """The project modules a file imports (at any depth of the file: lazy imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(block)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:  # an annotation's import: no import at run time
            continue
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    known = modules()
    return {n for n in names if n in known}


def edges() -> dict[str, set[str]]:
    """module → the project modules it imports."""
    return {name: imports(path) - {name} for name, path in modules().items()}


def unit_edges() -> set[tuple[str, str]]:
    out = set()
    for source, targets in edges().items():
        for target in targets:
            a, b = unit_of(source), unit_of(target)
            if a and b and a != b:
                out.add((a, b))
    return out


def mermaid() -> str:
    lines = ["```mermaid", "flowchart BT"]
    for n, layer in enumerate(LAYERS):
        lines.append(f'  subgraph L{n}["floor {n}"]')
        lines += [f"    {unit.replace('.', '_')}[{unit}]" for unit in layer]
        lines.append("  end")
    lines += [f"  {a.replace('.', '_')} --> {b.replace('.', '_')}" for a, b in sorted(unit_edges())]
    lines.append("```")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(mermaid() + "\n")
