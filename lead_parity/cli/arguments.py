"""Argument checks for the `lead-parity` CLI: each bad value is one line on stderr and exit 2.

argparse prints its usage block before every error; a person who typed `--leads -5` needs the
one sentence saying what is wrong, not the whole synopsis again.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_USAGE = 2
# numpy's generators take seeds in [0, 2**32); the simulator hands the seed on to them.
MAX_SEED = 2**32 - 1


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit 2.

    Defined here, not in main.py: under `python -m lead_parity.cli.main` that module runs as
    `__main__`, and a class imported from `lead_parity.cli.main` would be another class.
    """


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one `lead-parity: ...` line and exit 2.

    Sub-parsers made by `add_subparsers` inherit the class, so every command behaves alike.
    """

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("lead-parity").strip()
        where = f"{command}: " if command else ""
        self.exit(EXIT_USAGE, f"lead-parity: {where}{message} (see --help)\n")


def _integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """A whole number of at least 1 (people, days)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def seed(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and {MAX_SEED}")
    return value


def port(text: str) -> int:
    value = _integer(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return value
