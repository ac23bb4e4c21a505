"""Exit codes, mapped from the error hierarchy (syncnet/errors.py) in one place."""

from __future__ import annotations

from syncnet.errors import BadInput

OK, FAILED, BAD_INPUT, INTERRUPTED = 0, 1, 2, 130


def exit_code_for(error: BaseException | None) -> int:
    """2 for bad input or usage (nothing was written), 1 for any other failure."""
    return BAD_INPUT if isinstance(error, BadInput) else FAILED
