"""`focus-mcp tools NAME`: every argument of every tool explained, from its schema or from HELP."""

from __future__ import annotations

import json

import pytest
from helpers import connect, sandbox_settings

from focus_mcp import cli
from focus_mcp.registry import SPECS, input_schema
from focus_mcp.tool_help import HELP, argument_help
from focus_mcp.toolkit.base import ToolSpec

pytestmark = pytest.mark.anyio


async def test_every_published_argument_has_a_description_or_a_help_sentence() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        tools = (await client.list_tools()).tools
    unexplained = [
        f"{tool.name}.{name}"
        for tool in tools
        for name, schema in tool.input_schema["properties"].items()
        if not schema.get("description") and not HELP.get(f"{tool.name}.{name}", HELP.get(name))
    ]
    assert unexplained == []
    assert len(tools) == len(SPECS)  # every tool, the write tools included


def test_help_names_only_arguments_that_exist() -> None:
    arguments = {(spec.name, name) for spec in SPECS for name in spec.args.model_fields}
    for key in HELP:
        tool, _, name = key.rpartition(".")
        assert (tool, name) in arguments if tool else any(name == a for _, a in arguments), key


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_tools_name_prints_each_argument_with_type_default_and_meaning(
    spec: ToolSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tools", spec.name]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"{spec.name}: ")
    published = input_schema(spec.args)["properties"]
    for name, field in spec.args.model_fields.items():
        shown = f"{name}*" if field.is_required() else name
        line = next(i for i, text in enumerate(printed) if text.split()[:1] == [shown])
        facts, meaning = printed[line].split(None, 1)[1], printed[line + 1].strip()
        assert "; " in facts and (("required" in facts) == field.is_required()), facts
        assert meaning and meaning == argument_help(spec.name, name, published[name])


def test_list_users_says_what_its_filters_mean(capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["tools", "list_users"])
    printed = capsys.readouterr().out
    assert (
        "only_admins      boolean; optional\n" in printed and "per_page         integer 1 to 100; optional" in printed
    )
    assert "false: only people in no team" in printed and "max_items        integer >= 1; default: 1000" in printed
    assert "status           list of active|inactive|invited|locked, not empty; optional" in printed


def test_an_unknown_tool_is_refused_with_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tools", "list_usres"]) == 2
    said = capsys.readouterr().err
    assert "no tool 'list_usres'" in said and all(spec.name in said for spec in SPECS)


def test_a_sentence_shared_by_name_explains_arguments_of_one_shape() -> None:
    """A bare HELP key explains that argument in every tool that has it: update_group's `roles` (member ->
    role) was explained as list_users' filter of the same name. Arguments of different shapes under one
    name need "tool.argument" keys."""
    for key in (k for k in HELP if "." not in k):
        shapes = {
            spec.name: _shape(input_schema(spec.args)["properties"][key])
            for spec in SPECS
            if key in spec.args.model_fields and f"{spec.name}.{key}" not in HELP
        }
        assert len(set(shapes.values())) <= 1, (key, shapes)


def _shape(schema: dict[str, object]) -> str:
    """Whether an argument takes a mapping, a list or one value (its constraints and spelling aside)."""
    said = json.dumps(schema)
    return "mapping" if '"object"' in said else "list" if '"array"' in said else "value"


def test_list_users_paging_arguments_say_they_bound_the_lines_not_the_read(capsys: pytest.CaptureFixture[str]) -> None:
    """list_users reads every member (its snapshot): all_pages read "every page, up to max_items" and
    max_items "stop after this many records" in its help, which was no longer what they do."""
    cli.main(["tools", "list_users"])
    printed = capsys.readouterr().out
    meaning = {
        arg: printed.split(f"\n  {arg} ", 1)[1].splitlines()[1].strip()
        for arg in ("all_pages", "max_items", "page", "per_page")
    }
    assert all("counts cover everyone" in meaning[a] or "lines" in meaning[a] for a in meaning), meaning
    assert "read every page" not in meaning["all_pages"] and "stop after" not in meaning["max_items"], meaning
