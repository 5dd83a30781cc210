"""Sentences in the views are whole templates: ``tr("... {n} ...").format(...)``, never a
translated fragment glued to other text with ``+``, ``+=`` or an f-string (a translator must
see the whole sentence to order its words). Checked on the source, without Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import billing_desk

VIEWS = Path(billing_desk.__file__).resolve().parent / "views"


def _is_translated(node: ast.AST) -> bool:
    """``tr(...)`` or ``tr(...).format(...)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name) and func.id == "tr":
        return True
    return isinstance(func, ast.Attribute) and func.attr == "format" and _is_translated(func.value)


def _glued(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            parts = [node.left, node.right]
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
            parts = [node.value]
        elif isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        else:
            continue
        if any(_is_translated(part) for part in parts):
            lines.append(node.lineno)
    return sorted(lines)


def test_no_view_glues_a_translated_fragment_to_other_text() -> None:
    bad = [f"{path.relative_to(VIEWS)}:{line}" for path in sorted(VIEWS.rglob("*.py"))
           for line in _glued(ast.parse(path.read_text(encoding="utf-8")))]
    assert bad == []


def test_the_check_sees_each_way_of_gluing() -> None:
    source = (
        'a = tr("Failed") + ": " + reason\n'
        'b = "  " + tr("then {plan}").format(plan=p)\n'
        'c = tr("{n} rows").format(n=1)\n'
        'c += tr(" more")\n'
        'd = f"{tr(\'Status\')}: {s}"\n'
        'ok = tr("{n} rows, {m} more").format(n=1, m=2)\n'
    )
    assert _glued(ast.parse(source)) == [1, 2, 4, 5]
