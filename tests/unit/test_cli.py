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


def _render_args(*extra: str):
    return cli._parser().parse_args(["render", "--out", "x.mp4", *extra])


def test_render_reads_the_facts_file_for_the_writer(tmp_path: Path) -> None:
    facts = tmp_path / "facts.txt"
    facts.write_text(
        "- Los pulpos tienen tres corazones.\n\n2) Su sangre es azul.\n", encoding="utf-8"
    )
    options = cli.render_options(
        _render_args("--facts", str(facts), "--language", "es", "--voice", "espeak:es")
    )
    assert options["facts"] == ("Los pulpos tienen tres corazones.", "Su sangre es azul.")
    assert options["topic"] == "Los pulpos tienen tres corazones."  # no --topic: the first fact
    assert (options["language"], options["voice"]) == ("es", "espeak:es")
    with_topic = cli.render_options(_render_args("--facts", str(facts), "--topic", "pulpos"))
    assert with_topic["topic"] == "pulpos" and with_topic["facts"] == options["facts"]
    assert cli.render_options(_render_args("--topic", "owls"))["facts"] == ()


def test_render_says_what_is_wrong_with_the_facts(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    cases = {
        str(tmp_path / "missing.txt"): "Cannot read the facts file",
        str(empty): "has no facts",
    }
    for path, message in cases.items():
        assert cli.main(["render", "--facts", path, "--out", str(tmp_path / "x.mp4")]) == 1
        assert message in capsys.readouterr().err
    assert cli.main(["render", "--out", str(tmp_path / "x.mp4")]) == 1
    assert "Give --topic, --facts FILE, or both." in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()
