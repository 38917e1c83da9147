"""The names and limits of a bundle ZIP, shared by the writer and the verifier.

docs/BUNDLE-FORMAT.md describes each file. Nothing here imports anything but
the standard library.
"""

from __future__ import annotations

FORMAT = "evidence-bundle/v1"

PDF = "evidence.pdf"
VERIFY_TEXT = "VERIFY.txt"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MANIFEST_STATEMENT = "manifest.statement.txt"
MANIFEST_SIG = "manifest.sig"
STATEMENT_PREFIX = "evidence-bundle-manifest/v1"
# Written after the manifest, so it cannot list them; SHA256SUMS does.
AFTER_MANIFEST = (MANIFEST, MANIFEST_STATEMENT, MANIFEST_SIG, SUMS)
HEAD_TEXT = "head.txt"
HEAD_SIG = "head.sig"
PUBLIC_KEY = "pub.pem"
ENTRIES = "entries.jsonl"
PROOFS = "proofs.jsonl"
COMMITMENTS = "commitments.txt"
TABLE = "entries.csv"
ATTACHMENTS_DIR = "attachments/"
# RFC 3161 timestamps over earlier heads (docs/BUNDLE-FORMAT.md §7): absent from older bundles.
TIMESTAMPS = "timestamps.jsonl"
TIMESTAMPS_DIR = "timestamps/"
# A draft complaint letter (`evidence bundle --with-complaint`): listed in the manifest.
COMPLAINT = "complaint.txt"
OPTIONAL = (TIMESTAMPS, COMPLAINT)
MAX_TIMESTAMP_FILE = 256 * 1024

# Files every bundle has (attachments come on top).
REQUIRED = (
    PDF,
    VERIFY_TEXT,
    MANIFEST,
    MANIFEST_STATEMENT,
    MANIFEST_SIG,
    SUMS,
    HEAD_TEXT,
    HEAD_SIG,
    PUBLIC_KEY,
    ENTRIES,
    PROOFS,
    COMMITMENTS,
    TABLE,
)

# Limits a verifier applies before reading anything, so a hostile ZIP cannot exhaust it.
MAX_MEMBERS = 200_000
MAX_MEMBER_BYTES = 8 * 1024**3  # one attachment (a long video) may be large; it is streamed
MAX_TOTAL_BYTES = 64 * 1024**3
MAX_RATIO = 200  # uncompressed / compressed, beyond which a member is treated as a zip bomb
MAX_RATIO_FLOOR = 1024 * 1024  # small members may compress well (a page of zeros)
MAX_MANIFEST_BYTES = 64 * 1024**2
MAX_TEXT_BYTES = 1024**3  # entries.jsonl, proofs.jsonl, commitments.txt, SHA256SUMS
MAX_NAME = 255
