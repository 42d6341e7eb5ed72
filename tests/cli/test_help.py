"""`--help` of every command says what it is for and shows examples that are valid commands."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

from lead_parity.cli.help_text import HELP, _subparsers
from lead_parity.cli.main import build_parser


def _commands(parser, path=()):
    yield path, parser
    for name, child in _subparsers(parser).items():
        yield from _commands(child, (*path, name))


def _examples(epilog: str) -> list[list[str]]:
    """Each `lead-parity ...` example line (continuations joined, comments dropped) as argv."""
    text = epilog.replace("\\\n", " ")
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    found = []
    for line in lines:
        words = shlex.split(line)
        for i, word in enumerate(words):
            if word.endswith("lead-parity"):
                found.append(words[i + 1 :])
                break
    return found


def test_every_top_level_command_has_a_description_and_examples():
    parser = build_parser()
    top = set(_subparsers(parser))
    assert top <= set(HELP), f"no examples for {sorted(top - set(HELP))}"
    for path, command in _commands(parser):
        if " ".join(path) in HELP:
            assert command.description and "examples:" in command.epilog, path


@pytest.mark.parametrize("command", sorted(HELP), ids=lambda c: c or "lead-parity")
def test_each_example_is_a_command_the_parser_accepts(command):
    parser = build_parser()
    examples = _examples(HELP[command][1])
    assert examples, command
    for argv in examples:
        args = parser.parse_args(argv)  # exits (SystemExit) on an invalid example
        assert args.command == argv[0]


def test_help_prints_the_examples_and_exits_zero():
    done = subprocess.run(
        [sys.executable, "-m", "lead_parity.cli.main", "run", "--help"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0
    assert "examples:" in done.stdout and "--full-refresh" in done.stdout
    assert all(len(line) <= 100 for line in done.stdout.splitlines())
