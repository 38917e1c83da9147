"""One exception tree for the whole core.

Front ends map these classes to exit codes (CLI) or HTTP statuses (server),
each in one place. Messages are written for the user and never contain a
passphrase, key or token.
"""

from __future__ import annotations


class EvidenceError(Exception):
    """Base class: anything the core refuses or cannot do, with a user-facing message."""


class InvalidInput(EvidenceError):
    """The caller gave a value the model does not accept."""


class NotFound(EvidenceError):
    """An entry, attachment, log or store that does not exist."""


class Conflict(EvidenceError):
    """The request contradicts the current state (already exists, already retracted…)."""


class WrongSecret(EvidenceError):
    """A passphrase or recovery code that does not unlock the log."""


class StoreUnavailable(EvidenceError):
    """The store cannot be opened: missing, unreadable, or of an unknown format."""


class DecryptionFailed(EvidenceError):
    """A ciphertext failed authentication: wrong key, altered, moved or truncated.

    The crypto layer raises this one error for every failure so that callers
    cannot leak which part of the check failed.
    """


class IntegrityFailure(EvidenceError):
    """The log or an attachment does not match its commitments or signed head."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]
