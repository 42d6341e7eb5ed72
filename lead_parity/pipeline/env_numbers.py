"""Numeric settings overridden from environment variables, shared by the HTTP client and the
incident sinks so both read, validate and report a bad value the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def numbers_from_env(
    env: Mapping[str, str],
    prefix: str,
    names: Mapping[str, tuple[str, Callable[[str], Any]]],
    error: type[Exception],
) -> dict[str, Any]:
    """{attribute: value} for every `prefix + suffix` variable that is set and not blank.

    `names` maps attribute -> (variable suffix, int or float). A value that does not parse raises
    `error` naming the variable, never echoing anything but that value.
    """
    values: dict[str, Any] = {}
    for attr, (suffix, cast) in names.items():
        var = prefix + suffix
        raw = env.get(var, "").strip()
        if not raw:
            continue
        try:
            values[attr] = cast(raw)
        except ValueError:
            raise error(f"{var}={raw!r} is not a number") from None
    return values
