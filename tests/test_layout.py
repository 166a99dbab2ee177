"""The layout shows the architecture: tools by area, no folder too large to read, no tool module
that another module below the server builds on, no function with more parameters than a reader holds.

Everything here is derived from the source tree (no list of modules by hand): a new tool module, a
new folder or a new function is held to the same rules the day it is added.
"""

from __future__ import annotations

import ast
from pathlib import Path

import focus_mcp

PACKAGE = Path(focus_mcp.__file__).parent
TOOLS = PACKAGE / "tools"
MAX_MODULES = 14  # per folder: beyond it a folder stops saying what it holds
MAX_PARAMETERS = 8  # beyond it, pass a small context or a dataclass
# Below the tools: they must not build on a tool module (a tool is the top of its own area).
BELOW_TOOLS = ("api", "org", "writes", "journal", "render", "toolkit", "sandbox")


def modules(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every focus_mcp module `path` imports, wherever the import stands (lazy ones included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("focus_mcp.")}


def tool_modules() -> set[str]:
    return {module_name(p) for p in modules(TOOLS) if p.name != "__init__.py"}


def test_tools_folder_holds_only_modules_that_define_tools() -> None:
    for path in modules(TOOLS):
        if path.name == "__init__.py":
            continue
        defined = {
            target.id
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        assert "TOOLS" in defined, f"{path.name} defines no TOOLS: it belongs beside the tools, not among them"


def test_no_folder_holds_more_than_fourteen_modules() -> None:
    folders = [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__")]
    assert len(folders) > 5
    for folder in folders:
        count = len(modules(folder))
        assert count <= MAX_MODULES, f"{folder.relative_to(PACKAGE.parent)} holds {count} modules"


def test_no_tool_module_imports_another_and_nothing_below_imports_one() -> None:
    tools = tool_modules()
    assert len(tools) >= 8
    below = [p for name in BELOW_TOOLS for p in (PACKAGE / name).rglob("*.py")]
    for path in [*modules(TOOLS), *below]:
        others = imported(path) & (tools - {module_name(path)})
        assert not others, f"{path.relative_to(PACKAGE.parent)} imports the tool module(s) {sorted(others)}"


def test_no_function_takes_more_than_eight_parameters() -> None:
    checked = 0
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                every = [*a.posonlyargs, *a.args, *a.kwonlyargs, *([a.vararg] if a.vararg else [])]
                every += [a.kwarg] if a.kwarg else []
                checked += 1  # self and cls count: a reader holds them too
                assert len(every) <= MAX_PARAMETERS, (
                    f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} takes {len(every)} parameters"
                )
    assert checked > 100


def test_the_rules_see_a_violation() -> None:
    """The import check finds an import wherever it stands; the tool set is what tools/ holds."""
    sample = PACKAGE / "registry.py"
    assert tool_modules() <= imported(sample)
    assert "focus_mcp.render.teams" in imported(TOOLS / "teams.py")
