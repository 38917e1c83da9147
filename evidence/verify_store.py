"""`evidence check`: recompute every commitment, the tree, every head and every attachment.

Each problem names the first entry, head or attachment that fails, so a
borrower (or an expert) knows exactly where the log was altered. Every RFC 3161
timestamp the log records is checked again: its head is a signed head of this log
older than the timestamp entry, and its token is the TSA's signature over that head's
text (signature, imprint, the TSA certificate and the chain as far as the token and
the given anchors go).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from evidence import canonical, crypto, hashing, merkle, timeutil
from evidence.errors import DecryptionFailed, EvidenceError, NotFound
from evidence.hashing import Head
from evidence.model import Attachment, entry_from_document
from evidence.store.schema import entries

if TYPE_CHECKING:
    from evidence.ledger import CheckReport, Log
    from evidence.model import Entry


@dataclass
class TimestampCheck:
    """What checking the log's timestamps found besides problems: tokens that held, notes."""

    tokens: int = 0
    good: int = 0
    unchecked: list[str] = field(default_factory=list)


def check_log(
    log: Log,
    witness: Head | None = None,
    tsa_anchors: Sequence[Any] = (),
    timestamps: TimestampCheck | None = None,
) -> CheckReport:
    """Check the whole log; ``tsa_anchors`` are roots for the timestamp tokens' TSA chains.

    ``timestamps``, when given, receives how many tokens were checked and what could not be.
    """
    from evidence.ledger import CheckReport

    report = CheckReport()
    stamped: list[Entry] = []
    leaves, attachments = _check_entries(log, report, stamped)
    _check_heads(log, leaves, report, witness)
    _check_timestamps(log, stamped, report, tsa_anchors, timestamps or TimestampCheck())
    _check_attachments(log, attachments, report)
    return report


def _check_entries(
    log: Log, report: CheckReport, stamped: list[Entry] | None = None
) -> tuple[list[bytes], dict[str, tuple[int, Attachment]]]:
    sealer, _ = log._check_access()
    leaves: list[bytes] = []
    attachments: dict[str, tuple[int, Attachment]] = {}
    query = select(entries).where(entries.c.log_id == log.log_id).order_by(entries.c.seq)
    with (
        log.store.engine.connect() as conn,
        # Closed on the early return below too, so no server-side cursor is left open.
        conn.execution_options(yield_per=2000).execute(query) as result,
    ):
        for row in result:
            expected = len(leaves)
            if row.seq != expected:
                report.problems.append(
                    f"entry {expected} is missing (the next stored entry is {row.seq})"
                    if row.seq > expected
                    else f"entry {row.seq} appears out of order"
                )
                return leaves, attachments
            report.entries += 1
            leaves.append(hashing.leaf(row.commitment))
            problem = _check_entry(log, sealer, row, attachments, stamped)
            if problem:
                report.problems.append(problem)
    return leaves, attachments


def _check_entry(
    log: Log,
    sealer: crypto.Sealer,
    row: object,
    attachments: dict[str, tuple[int, Attachment]],
    stamped: list[Entry] | None = None,
) -> str | None:
    seq = row.seq  # type: ignore[attr-defined]
    try:
        plain = sealer.unseal(row.sealed, hashing.entry_aad(log.log_id, seq))  # type: ignore[attr-defined]
    except DecryptionFailed:
        return (
            f"entry {seq}: its ciphertext does not open at this place "
            "(altered, moved from another entry, or sealed with another key)"
        )
    salt, encoded = plain[: hashing.SALT_BYTES], plain[hashing.SALT_BYTES :]
    if hashing.commitment(salt, encoded) != row.commitment:  # type: ignore[attr-defined]
        return f"entry {seq}: its content does not match its commitment (edited)"
    try:
        document = canonical.decode(encoded)
        entry = entry_from_document(document, row.commitment)  # type: ignore[attr-defined]
    except (EvidenceError, KeyError, TypeError, ValueError):
        return f"entry {seq}: its content is not a valid entry"
    if entry.log_id != log.log_id or entry.seq != seq:
        return f"entry {seq}: its content names another place ({entry.log_id}/{entry.seq})"
    if (
        timeutil.to_micros(entry.occurred_at) != row.occurred_us  # type: ignore[attr-defined]
        or timeutil.to_micros(entry.recorded_at) != row.recorded_us  # type: ignore[attr-defined]
    ):
        return f"entry {seq}: its indexed times differ from its committed times"
    for attachment in entry.attachments:
        attachments.setdefault(attachment.sha256, (seq, attachment))
    if entry.kind == "timestamp" and stamped is not None:
        stamped.append(entry)
    return None


def _check_heads(log: Log, leaves: list[bytes], report: CheckReport, witness: Head | None) -> None:
    tree = merkle.Tree(leaves)
    all_heads = log.heads()
    if not all_heads:
        report.problems.append("the log has no signed head")
        return
    previous = 0
    latest = 0  # the size of the newest head whose signature holds: a forged one covers nothing
    for head in all_heads:
        report.heads += 1
        if not crypto.verify_signature(log.info.public_key, head.signature, head.message()):
            report.problems.append(f"head of size {head.size}: the signature is not valid")
            continue
        latest = head.size
        if head.size > len(leaves):
            report.problems.append(
                f"head of size {head.size} covers entries {len(leaves)}–{head.size - 1}, "
                "which are missing (deleted or truncated)"
            )
            continue
        if tree.root(head.size) != head.root:
            first = previous if previous < head.size else head.size - 1
            report.problems.append(
                f"entries {first}–{head.size - 1}: they no longer match the head of size "
                f"{head.size} signed at {head.signed_at} "
                "(an entry was edited, inserted or replaced)"
            )
            # Later heads fail too; keep naming the range from the last head that still matches.
            continue
        previous = head.size
    if latest < len(leaves):
        report.problems.append(
            f"entries {latest}–{len(leaves) - 1} are not covered by any signed head "
            "(inserted, or the newest heads were removed)"
        )
    if witness is not None:
        if crypto.verify_signature(log.info.public_key, witness.signature, witness.message()):
            _check_witness(tree, latest, witness, report)
        else:
            report.problems.append(
                f"the head of size {witness.size} remembered on this machine is not signed by "
                "this log's key (the remembered head was replaced)"
            )


def _check_witness(tree: merkle.Tree, latest: int, witness: Head, report: CheckReport) -> None:
    if witness.size > latest:
        report.problems.append(
            f"the log was rolled back: a head of size {witness.size} was seen before, "
            f"the store now ends at size {latest}"
        )
    elif witness.size <= tree.size and tree.root(witness.size) != witness.root:
        report.problems.append(
            f"the log no longer extends the head of size {witness.size} seen before"
        )


def _check_timestamps(
    log: Log,
    stamped: list[Entry],
    report: CheckReport,
    anchors: Sequence[Any],
    seen: TimestampCheck,
) -> None:
    """Each timestamp entry, oldest first: its head, then its token over that head's text."""
    from evidence import timestamps as rfc3161

    if not stamped:
        return
    heads = {(h.size, h.root.hex(), h.signed_at): h for h in log.heads()}
    for entry in stamped:
        seen.tokens += 1
        fields = entry.fields
        name = f"timestamp #{entry.seq}"
        try:
            size = fields["head_size"]
            if not isinstance(size, int) or isinstance(size, bool):
                raise TypeError("head_size")
            key = (size, str(fields["head_root"]), str(fields["head_signed_at"]))
            token = rfc3161.decode_token(str(fields["token"]))
            name += f" (head of size {size}, TSA {fields['tsa']})"
        except (KeyError, TypeError, ValueError):
            report.problems.append(f"{name}: its record is not a valid timestamp")
            continue
        if size > entry.seq:
            report.problems.append(
                f"{name}: it claims to cover entries recorded after it (a head of size {size})"
            )
            continue
        head = heads.get(key)
        if head is None:
            report.problems.append(f"{name}: its head is not a signed head of this log")
            continue
        if not crypto.verify_signature(log.info.public_key, head.signature, head.message()):
            report.problems.append(f"{name}: its head's signature is not valid")
            continue
        checked = rfc3161.check_token(token, head.message(), anchors=anchors)
        if not checked.ok or checked.gen_time is None:
            report.problems.append(f"{name}: " + "; ".join(checked.problems))
            continue
        if timeutil.format_canonical(checked.gen_time) != fields.get("gen_time"):
            report.problems.append(f"{name}: its recorded time differs from the token's")
            continue
        seen.good += 1
        for note in checked.unchecked:
            if note not in seen.unchecked:
                seen.unchecked.append(note)


def _check_attachments(
    log: Log, attachments: dict[str, tuple[int, Attachment]], report: CheckReport
) -> None:
    for sha, (seq, attachment) in sorted(attachments.items(), key=lambda item: item[1][0]):
        report.attachments += 1
        try:
            size = sum(len(chunk) for chunk in log.read_attachment(sha))
        except NotFound:
            report.problems.append(f"attachment {sha} ({attachment.name}, entry {seq}) is missing")
            continue
        except DecryptionFailed:
            report.problems.append(
                f"attachment {sha} ({attachment.name}, entry {seq}) "
                "is altered, truncated or replaced"
            )
            continue
        if size != attachment.size:
            report.problems.append(
                f"attachment {sha} ({attachment.name}, entry {seq}) has {size} bytes, "
                f"{attachment.size} were recorded"
            )
