"""DESIGN.md's import rules: views never import sqlalchemy, requests or billing_desk.models;
only billing_desk/views/ imports Qt (PySide6, shiboken6) or pyqtgraph, so the CLI, the services,
the domain, the models and the export child stay loadable without a GUI stack. And the tests'
own rule: a test module never imports another test module or a conftest; shared helpers live
in tests/support/."""

from __future__ import annotations

import ast
from pathlib import Path

import billing_desk

PACKAGE = Path(billing_desk.__file__).resolve().parent
TESTS = Path(__file__).resolve().parents[1]
VIEWS_FORBIDDEN = ("sqlalchemy", "requests", "billing_desk.models", "psycopg2")
GUI_LIBRARIES = ("PySide6", "shiboken6", "pyqtgraph")


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
    return _violations_in(sorted(folder.rglob("*.py")), forbidden)


def _violations_in(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        where = path.relative_to(PACKAGE) if PACKAGE in path.parents else path.name
        for line, name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{where}:{line} imports {name}")
    return bad


def _outside_views() -> list[Path]:
    """Every module of billing_desk that is not under views/ (including those at its top level)."""
    views = PACKAGE / "views"
    return [path for path in sorted(PACKAGE.rglob("*.py")) if views not in path.parents]


def test_views_do_not_import_database_or_http_libraries() -> None:
    assert (PACKAGE / "views").is_dir()
    assert _violations(PACKAGE / "views", VIEWS_FORBIDDEN) == []


def test_domain_and_models_do_not_import_qt() -> None:
    for layer in ("domain", "models"):
        assert _violations(PACKAGE / layer, ("PySide6", "pyqtgraph")) == [], layer


def test_only_views_import_qt_or_pyqtgraph() -> None:
    modules = _outside_views()
    names = {path.relative_to(PACKAGE).as_posix() for path in modules}
    # the walk reaches every layer outside views/, top-level modules included
    assert {"bootstrap.py", "cli/main.py", "domain/progress.py", "services/uow.py", "sandbox/server.py"} <= names
    assert not any(name.startswith("views/") for name in names)
    assert _violations_in(modules, GUI_LIBRARIES) == []


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "bad_view.py").write_text("import os\nfrom sqlalchemy import select\nimport billing_desk.models\n")
    names = [name for _line, name in _imports(tmp_path / "bad_view.py")]
    assert "sqlalchemy" in names and "billing_desk.models" in names


def test_the_checker_catches_every_gui_library(tmp_path: Path) -> None:
    (tmp_path / "bad_service.py").write_text(
        "import os\nimport PySide6.QtCore\nfrom shiboken6 import isValid\n\n\ndef plot():\n"
        "    import pyqtgraph as pg\n    return pg\n")
    bad = _violations_in([tmp_path / "bad_service.py"], GUI_LIBRARIES)
    assert [line.split(" imports ")[1] for line in bad] == ["PySide6.QtCore", "shiboken6", "shiboken6.isValid",
                                                            "pyqtgraph"]


def _test_module_imports(path: Path, package: tuple[str, ...]) -> list[tuple[int, str]]:
    """The test modules and conftests that ``path`` (in ``package``) imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, *(node.module or "").split("."))).strip(".")
            found += [(node.lineno, module)] + [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "tests"
            and any(part.startswith("test_") or part == "conftest" for part in name.split(".")[1:])]


def test_no_test_module_imports_another_test_module_or_a_conftest() -> None:
    bad = []
    for path in sorted(TESTS.rglob("*.py")):
        package = path.relative_to(TESTS.parent).parent.parts
        bad += [f"{path.relative_to(TESTS.parent)}:{line} imports {name}"
                for line, name in _test_module_imports(path, package)]
    assert bad == [], "move shared helpers to tests/support/ (fixtures to a conftest.py)"


def test_the_test_import_checker_catches_each_form(tmp_path: Path) -> None:
    (tmp_path / "test_mod.py").write_text(
        "import tests.test_a\nfrom tests.integration.test_b import helper\nfrom tests.gui import test_c\n"
        "from .test_d import x\nfrom ..unit.test_e import y\nfrom tests.conftest import STAFF\n"
        "from tests.support.ledger import credit\nimport pytest\n")
    names = [name for _line, name in _test_module_imports(tmp_path / "test_mod.py", ("tests", "integration"))]
    assert "tests.test_a" in names and "tests.integration.test_b" in names and "tests.gui.test_c" in names
    assert "tests.integration.test_d" in names and "tests.unit.test_e" in names and "tests.conftest" in names
    assert not [n for n in names if n.startswith("tests.support") or n == "pytest"]
