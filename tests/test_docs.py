"""The README documents every setting and every command, or the suite fails."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from aggregator.cli import cli
from aggregator.config import reference, reference_markdown

from .conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_configuration_reference_is_current() -> None:
    match = re.search(
        r"<!-- config-reference:start[^\n]*-->\n(.*?)<!-- config-reference:end -->", README, re.S
    )
    assert match, "README.md lost its config-reference markers"
    assert match.group(1) == reference_markdown(), (
        "run `aggregator config-reference` and paste it into README.md"
    )


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every table as GitHub renders it: rows of cells (their inline Markdown, escaped pipes resolved)."""
    tables: list[list[list[str]]] = []
    row: list[str] | None = None
    tokens: list[Token] = MarkdownIt("commonmark").enable("table").parse(markdown)
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open") and row is not None:
            inline = tokens[i + 1]
            row.append(inline.content if inline.type == "inline" else "")
        elif token.type == "tr_close" and row is not None:
            tables[-1].append(row)
            row = None
    return tables


def test_readme_configuration_table_renders_each_setting_as_written() -> None:
    (config_table,) = [t for t in _tables(README) if t[0] == ["key", "type", "default", "meaning"]]
    rendered = config_table[1:]
    expected = [[f"`{key}`", kind, f"`{default}`", doc] for key, kind, default, doc in reference()]
    assert rendered == expected


def test_readme_documents_every_command() -> None:
    def walk(group: object, prefix: str) -> list[str]:
        names = []
        for name, command in getattr(group, "commands", {}).items():
            if getattr(command, "hidden", False):
                continue
            full = f"{prefix} {name}".strip()
            sub = walk(command, full)
            names += sub or [full]
        return names

    for name in walk(cli, ""):
        assert f"`aggregator {name}" in README, f"README.md does not document `aggregator {name}`"


def test_readme_opens_with_the_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    assert "aggregator" in blocks[0] and "pip install" in blocks[0]
    assert (
        blocks[1]
        == "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"
    )
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci, ".ci/run must call the README's test command"
