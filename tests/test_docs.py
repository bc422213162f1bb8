"""The README documents every setting and every command, or the suite fails."""

from __future__ import annotations

import re

from aggregator.cli import cli
from aggregator.config import reference_markdown

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
