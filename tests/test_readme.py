"""README.md runs as written: its Python blocks, and its `python3 -m centerloss` commands parse."""

import re
import shlex
from pathlib import Path

import pytest

from centerloss.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(language):
    return [code for lang, code in FENCE.findall(README.read_text()) if lang == language]


def test_every_python_block_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks write files (model.keras)
    python_blocks = blocks("python")
    assert len(python_blocks) >= 3
    for number, code in enumerate(python_blocks, start=1):
        # Each block on its own, as a reader pastes it into a fresh session.
        exec(compile(code, f"README.md, python block {number}", "exec"), {"__name__": "__main__"})


def centerloss_commands():
    for code in blocks("bash"):
        for line in code.splitlines():
            for command in line.split("&&"):
                words = shlex.split(command, comments=True)  # a bash comment may hold quotes
                if words[:3] in (["python3", "-m", "centerloss"], ["python", "-m", "centerloss"]):
                    yield command.strip(), words[3:]


def test_readme_has_centerloss_commands():
    assert len(list(centerloss_commands())) >= 2


@pytest.mark.parametrize("command, arguments", list(centerloss_commands()))
def test_every_centerloss_command_parses(command, arguments):
    try:
        build_parser().parse_args(arguments)
    except SystemExit as exit_:
        pytest.fail(f"README command does not parse (exit {exit_.code}): {command}")
