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


@pytest.mark.parametrize("path", [ROOT / "app.py", ROOT / "kb" / "cli.py", *sorted((ROOT / "webapp").glob("*.py"))],
                         ids=lambda p: p.name)
def test_interfaces_never_reach_the_store(path):
    assert "kb.store" not in imported_modules(path)
    assert ".store." not in path.read_text(encoding="utf-8")
