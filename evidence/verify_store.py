"""`evidence check`: recompute every commitment, the tree, every head and every attachment.

Each problem names the first entry, head or attachment that fails, so a
borrower (or an expert) knows exactly where the log was altered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from evidence import canonical, crypto, hashing, merkle, timeutil
from evidence.errors import DecryptionFailed, EvidenceError, NotFound
from evidence.hashing import Head
from evidence.model import Attachment, entry_from_document
from evidence.store.schema import entries

if TYPE_CHECKING:
    from evidence.ledger import CheckReport, Log


def check_log(log: Log, witness: Head | None = None) -> CheckReport:
    from evidence.ledger import CheckReport

    report = CheckReport()
    leaves, attachments = _check_entries(log, report)
    _check_heads(log, leaves, report, witness)
    _check_attachments(log, attachments, report)
    return report


def _check_entries(
    log: Log, report: CheckReport
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
            problem = _check_entry(log, sealer, row, attachments)
            if problem:
                report.problems.append(problem)
    return leaves, attachments


def _check_entry(
    log: Log, sealer: crypto.Sealer, row: object, attachments: dict[str, tuple[int, Attachment]]
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
