"""The command line's help and the docs name only commands that exist."""

import re
from pathlib import Path

import pytest

from viralshorts import cli

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> set[str]:
    (action,) = (a for a in cli._parser()._actions if a.dest == "command")
    return set(action.choices)


def test_the_docs_name_only_commands_that_exist() -> None:
    commands = _commands()
    first_line = cli.__doc__.splitlines()[0]
    assert set(re.findall(r"[a-z][a-z-]+", first_line.split(":", 1)[1])) == commands
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    listed = re.search(r"python -m viralshorts ([a-z|-]+)", architecture).group(1)
    assert set(listed.split("|")) == commands
    readme = (ROOT / "README.md").read_text()
    assert set(re.findall(r"python -m viralshorts ([a-z][a-z-]+)", readme)) <= commands


def test_an_unknown_caption_style_is_refused_with_the_choices(capsys) -> None:
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["render", "--topic", "cats", "--out", "x.mp4", "--style", "x"])
    assert "bold" in capsys.readouterr().err
