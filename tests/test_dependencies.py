"""Every third-party module imported is a declared dependency (the package's, or the tests' extra)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"focus_mcp", "benchmarks", "scripts"} | {p.stem for p in (ROOT / "tests").glob("*.py")}


def imported(*folders: str) -> set[str]:
    modules: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - LOCAL


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {normal(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]) for requirement in requirements}


def undeclared(modules: set[str], requirements: set[str]) -> dict[str, list[str]]:
    providers = packages_distributions()
    return {
        module: providers.get(module, ["(not installed)"])
        for module in sorted(modules)
        if not requirements & {normal(d) for d in providers.get(module, [])}
    }


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_package_imports_only_its_dependencies() -> None:
    assert undeclared(imported("focus_mcp"), declared(PROJECT["dependencies"])) == {}


def test_tests_benchmarks_and_scripts_import_only_declared_dependencies() -> None:
    requirements = declared(PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"])
    assert undeclared(imported("tests", "benchmarks", "scripts"), requirements) == {}
