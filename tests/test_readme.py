"""README.md and the pages of docs/ run as written: Python blocks, commands, links."""

import re
import shlex
from pathlib import Path

import pytest

from centerloss.apps.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")
README_LIMIT = 8 * 1024  # bytes of text: a newcomer reads it in five minutes


def blocks(page, language):
    return [code for lang, code in FENCE.findall(page.read_text()) if lang == language]


def name(page):
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_python_block_runs_in_order(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks write files (model.keras)
    for number, code in enumerate(blocks(page, "python"), start=1):
        # Each block on its own, as a reader pastes it into a fresh session.
        where = f"{name(page)}, python block {number}"
        exec(compile(code, where, "exec"), {"__name__": "__main__"})


def test_the_pages_hold_the_python_examples():
    counts = {name(page): len(blocks(page, "python")) for page in PAGES}
    assert counts["README.md"] >= 1 and sum(counts.values()) >= 3, counts


def test_readme_is_short_and_links_every_page():
    assert len(README.read_bytes()) <= README_LIMIT
    linked = set(LINK.findall(README.read_text()))
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in linked, f"README does not link {page.name}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_relative_links_point_at_files(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"\w+://|#", target):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{name(page)} links to {target}, which does not exist"


def centerloss_commands():
    for page in PAGES:
        for code in blocks(page, "bash"):
            for line in code.splitlines():
                for command in line.split("&&"):
                    words = shlex.split(command, comments=True)  # a bash comment may hold quotes
                    if words[:3] in (
                        ["python3", "-m", "centerloss"],
                        ["python", "-m", "centerloss"],
                    ):
                        yield command.strip(), words[3:]


def test_the_pages_have_centerloss_commands():
    assert len(list(centerloss_commands())) >= 2


@pytest.mark.parametrize("command, arguments", list(centerloss_commands()))
def test_every_centerloss_command_parses(command, arguments):
    try:
        build_parser().parse_args(arguments)
    except SystemExit as exit_:
        pytest.fail(f"Documented command does not parse (exit {exit_.code}): {command}")
