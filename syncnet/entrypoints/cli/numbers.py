"""Numbers on the command line: the digits 0-9 only.

Python's int() and float() read every script's digits ("٣" is 3, "१०" is 10) and
underscores ("1_000"); click's INT, FLOAT, IntRange and FloatRange inherit that. A number
a user types is read only when written as a shell script or a config file would write
it: `ascii_numbers(cli)` gives every number option of every command (those added
later too) a type that refuses anything else, before the range is checked.
"""

from __future__ import annotations

import re
from typing import Any

import click

from syncnet.errors import BadInput

_WHOLE = re.compile(r"[ \t]*[+-]?[0-9]+[ \t]*")
_DECIMAL = re.compile(r"[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*")


class Whole(click.IntRange):
    """A whole number in the digits 0-9, within the range click.IntRange checks."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not _WHOLE.fullmatch(value):
            self.fail(f"{value!r} is not a whole number written with the digits 0-9.", param, ctx)
        return super().convert(value, param, ctx)


class Decimal(click.FloatRange):
    """A number like 2, 0.5 or 1e3 in the digits 0-9 (never nan or inf), within its range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not _DECIMAL.fullmatch(value):
            self.fail(f"{value!r} is not a number written with the digits 0-9.", param, ctx)
        return super().convert(value, param, ctx)


def _digits_only(kind: click.ParamType[Any]) -> click.ParamType[Any]:
    """`kind` as a type that reads the digits 0-9 only, with the same range."""
    number = isinstance(kind, click.types.IntParamType | click.types.FloatParamType)
    if isinstance(kind, Whole | Decimal) or not number:
        return kind
    bounds: dict[str, Any] = {}
    if isinstance(kind, click.IntRange | click.FloatRange):
        bounds = {"min": kind.min, "max": kind.max, "min_open": kind.min_open, "max_open": kind.max_open,
                  "clamp": kind.clamp}  # fmt: skip
    return Whole(**bounds) if isinstance(kind, click.types.IntParamType) else Decimal(**bounds)


def ascii_numbers(command: click.Command) -> None:
    """Give every number parameter of `command` and its subcommands a digits-only type."""
    for param in command.params:
        param.type = _digits_only(param.type)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            ascii_numbers(sub)


def ascii_digits(text: str, what: str) -> str:
    """`text` (e.g. a cadence, "6w"), refused when a digit in it is not one of 0-9."""
    if any(ch.isnumeric() and not ("0" <= ch <= "9") for ch in text):
        raise BadInput(f"malformed {what} {text!r}: write its number with the digits 0-9")
    return text
