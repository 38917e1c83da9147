"""Every exit code of the CLI, and the one place that maps core errors to them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    WRONG_SECRET = 3
    NOT_FOUND = 4
    INTEGRITY = 5
    CONFLICT = 6
    STORE_UNAVAILABLE = 7
    INTERNAL = 70
    INTERRUPTED = 130


def for_error(error: BaseException) -> ExitCode:
    """The exit code for a core error (imports the error tree lazily)."""
    from evidence import errors

    table: list[tuple[type[BaseException], ExitCode]] = [
        (errors.InvalidInput, ExitCode.USAGE),
        (errors.WrongSecret, ExitCode.WRONG_SECRET),
        (errors.NotFound, ExitCode.NOT_FOUND),
        (errors.IntegrityFailure, ExitCode.INTEGRITY),
        (errors.DecryptionFailed, ExitCode.INTEGRITY),
        (errors.Conflict, ExitCode.CONFLICT),
        (errors.StoreUnavailable, ExitCode.STORE_UNAVAILABLE),
        (errors.EvidenceError, ExitCode.ERROR),
    ]
    for kind, code in table:
        if isinstance(error, kind):
            return code
    return ExitCode.INTERNAL
