"""The layers the folders promise: ingest/ never imports kb; the interfaces go through
KnowledgeBase, never the store."""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "ingest").glob("*.py")), ids=lambda p: p.name)
def test_ingest_never_imports_kb(path):
    assert not {m for m in imported_modules(path) if m == "kb" or m.startswith("kb.")}


@pytest.mark.parametrize("path", [ROOT / "app.py", *sorted((ROOT / "kb" / "cli").glob("*.py")),
                                  *sorted((ROOT / "webapp").rglob("*.py"))],
                         ids=lambda p: p.name)
def test_interfaces_never_reach_the_store(path):
    assert "kb.store" not in imported_modules(path)
    assert ".store." not in path.read_text(encoding="utf-8")


# --- the floors of docs/architecture.md --------------------------------------------------------------

def test_every_import_runs_down_the_floors_never_up_or_sideways():
    from scripts.import_graph import edges, layer_of, unit_of

    wrong = []
    for source, targets in edges().items():
        for target in targets:
            a, b = unit_of(source), unit_of(target)
            assert a and b, (source, target)  # every module has its floor
            if a != b and layer_of(a) <= layer_of(b):
                wrong.append(f"{source} → {target}")
    assert wrong == []


def test_no_module_imports_itself_round_a_circle():
    from graphlib import CycleError, TopologicalSorter

    from scripts.import_graph import edges

    graph = edges()
    # a package's __init__ naming a submodule is no circle: its submodules import their siblings, not it
    graph = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"import circle: {exc.args[1]}")


def test_the_architecture_page_draws_the_graph_as_it_is():
    from scripts.import_graph import mermaid

    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert mermaid() in page, "run `python scripts/import_graph.py` and paste it into docs/architecture.md"


def test_the_rooms_stay_small():
    from scripts.import_graph import modules

    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}
    assert len((ROOT / "app.py").read_text(encoding="utf-8").splitlines()) < 150


def test_the_knowledge_base_keeps_a_small_door():
    from kb.library.knowledge_base import KnowledgeBase

    public = [name for name in dir(KnowledgeBase) if not name.startswith("_")]
    assert len(public) < 30, public
