"""Checks the contract loader applies before it trusts a value: the file itself, and values that
YAML parses happily but no threshold can be (`.nan`, `.inf`, lists where names belong).

A threshold of NaN compares false with everything, so it would pass every check and breach none:
it has to be refused when the contract is read, not found late in a quality check.
"""

from __future__ import annotations

import math
import stat
from pathlib import Path

# The shipped contract is 2 KB; a file this big is a wrong path (a log, a dump), not a contract.
MAX_CONTRACT_BYTES = 1024 * 1024
_SHOWN_CHARS = 60


class ContractError(ValueError):
    """The contract file cannot be used; the message names the key at fault."""


def show(value: object) -> str:
    """A value for an error message: its repr, cut short so one line stays one line."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def is_finite_number(value: object) -> bool:
    """An int or float that is neither a bool nor NaN/infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def read_contract_text(path: Path) -> str:
    """The contract file's text; ContractError for anything but a readable UTF-8 regular file.

    A FIFO or device given by mistake would block or never end: only regular files are opened.
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise ContractError(f"cannot read contract {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ContractError(f"cannot read contract {path}: not a regular file")
    if info.st_size > MAX_CONTRACT_BYTES:
        raise ContractError(
            f"contract {path} is {info.st_size:,} bytes; a contract is a small YAML file"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContractError(f"cannot read contract {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContractError(
            f"contract {path} is not UTF-8 text (byte {exc.start}, line {line})"
        ) from None
