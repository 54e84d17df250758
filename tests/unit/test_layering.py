"""Dependencies point inward (DESIGN.md): engine/ and schemas/ never import the shell."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
ALLOWED = {
    "engine": {"engine", "schemas", "pydantic", "__future__"},
    "schemas": {"schemas", "pydantic", "__future__"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_inner_packages_import_only_the_standard_library_pydantic_and_inner_packages(package):
    offenders = {}
    for path in (REPO / package).rglob("*.py"):
        foreign = _imports(path) - ALLOWED[package] - _stdlib()
        if foreign:
            offenders[str(path.relative_to(REPO))] = sorted(foreign)
    assert not offenders


def test_the_engine_reads_no_clock_environment_or_network():
    forbidden = {"os", "socket", "asyncio", "time", "random", "subprocess"}
    for path in (REPO / "engine").rglob("*.py"):
        assert not (_imports(path) & forbidden), path
        assert "datetime.now(" not in path.read_text(), path
