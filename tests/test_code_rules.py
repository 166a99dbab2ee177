"""Rules of the code a reviewer checks by hand, checked here so that they hold after every change:
no function takes more than 8 parameters (pass a small context or dataclass), and no file cites a
document a clone of the repository does not contain."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_PARAMETERS = 8


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    given = function.args
    names = [a.arg for a in (*given.posonlyargs, *given.args, *given.kwonlyargs)]
    names += [a.arg for a in (given.vararg, given.kwarg) if a is not None]
    return len([n for n in names if n not in ("self", "cls")])


def test_no_function_takes_more_than_8_parameters() -> None:
    over = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({_parameters(node)})"
        for path in sorted((ROOT / "focus_mcp").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _parameters(node) > MAX_PARAMETERS
    ]
    assert over == []


def test_no_file_cites_a_document_outside_the_repository() -> None:
    design = "DESIGN" + ".md"  # spelled apart so that this file does not cite it either
    files = [
        path
        for folder in ("focus_mcp", "tests", "docs", "benchmarks", "scripts")
        for path in (ROOT / folder).rglob("*")
    ]
    files += [path for path in ROOT.iterdir() if path.suffix in (".md", ".json", ".toml")]
    citing = [
        str(path.relative_to(ROOT))
        for path in sorted(files)
        if path.is_file() and path.suffix in (".py", ".md", ".json", ".toml") and design in path.read_text("utf-8")
    ]
    assert citing == []
