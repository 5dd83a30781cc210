"""DESIGN.md's import rule: views never import sqlalchemy, requests or billing_desk.models;
domain and models never import Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import billing_desk

PACKAGE = Path(billing_desk.__file__).resolve().parent
VIEWS_FORBIDDEN = ("sqlalchemy", "requests", "billing_desk.models", "psycopg2")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _violations(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.py")):
        for line, name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
    return bad


def test_views_do_not_import_database_or_http_libraries() -> None:
    assert (PACKAGE / "views").is_dir()
    assert _violations(PACKAGE / "views", VIEWS_FORBIDDEN) == []


def test_domain_and_models_do_not_import_qt() -> None:
    for layer in ("domain", "models"):
        assert _violations(PACKAGE / layer, ("PySide6", "pyqtgraph")) == [], layer


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "bad_view.py").write_text("import os\nfrom sqlalchemy import select\nimport billing_desk.models\n")
    names = [name for _line, name in _imports(tmp_path / "bad_view.py")]
    assert "sqlalchemy" in names and "billing_desk.models" in names
