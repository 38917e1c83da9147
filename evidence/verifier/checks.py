"""Verify a bundle ZIP: every file, the signed head, the tree, each entry and attachment.

Needs only the ZIP: no store, no key, no network. Each problem is recorded with
a code (see :mod:`messages`), the file (and line) where it was found and a
technical detail; checking goes on after a problem, so the report names every
one it can reach.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from evidence.verifier import layout, merkle, safezip

HEX = set("0123456789abcdef")
_SPKI_ED25519 = bytes.fromhex("302a300506032b6570032100")
HEAD_PREFIX = "evidence-log-head/v1"


@dataclass(frozen=True)
class Problem:
    code: str
    where: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "where": self.where, "detail": self.detail}


@dataclass
class Report:
    """What was verified and every problem found."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    log_id: str = ""
    public_key: bytes = b""
    head: dict[str, Any] = field(default_factory=dict)
    entries: int = 0
    attachments: int = 0
    files: int = 0
    against: Report | None = None
    commitments: list[bytes] = field(default_factory=list, repr=False)
    # RFC 3161 timestamps (verifier/tokens.py): checked tokens, the earliest time covering
    # each disclosed entry, entries none covers, and what could not be checked.
    timestamps: list[dict[str, Any]] = field(default_factory=list)
    covered: dict[int, str] = field(default_factory=dict)
    uncovered: list[int] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    # The PDF's PAdES signature and document timestamps (verifier/pdfsig.py), once checked.
    pdf: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and (self.against is None or self.against.ok)

    def add(self, code: str, where: str, detail: str) -> None:
        self.problems.append(Problem(code, where, detail))

    def fingerprint(self) -> str:
        import hashlib

        if not self.public_key:
            return ""
        digest = hashlib.sha256(self.public_key).hexdigest()
        return " ".join(digest[i : i + 4] for i in range(0, 64, 4))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "log": self.log_id,
            "fingerprint": self.fingerprint(),
            "head": self.head,
            "entries": self.entries,
            "attachments": self.attachments,
            "files": self.files,
            "problems": [p.to_dict() for p in self.problems],
            "timestamps": self.timestamps,
            "covered": {str(k): v for k, v in self.covered.items()},
            "uncovered": self.uncovered,
            "unchecked": self.unchecked,
            "pdf": self.pdf,
            "against": self.against.to_dict() if self.against else None,
        }


def verify_bundle(
    path: str | Path, against: str | Path | None = None, tsa_roots: Sequence[Any] = ()
) -> Report:
    """Verify the bundle at ``path``; with ``against``, also that one head extends the other.

    ``tsa_roots`` (``cryptography`` certificates) are the trust anchors for the TSA
    certificates of the timestamp tokens and of the PDF's document timestamp; without
    them, each is reported as not checked against a trust anchor.
    """
    report = _verify_one(path, tsa_roots)
    if against is not None:
        other = _verify_one(against, tsa_roots)
        report.against = other
        _consistency(report, other)
    return report


def _verify_one(path: str | Path, tsa_roots: Sequence[Any] = ()) -> Report:
    report = Report(str(path))
    try:
        with zipfile.ZipFile(path) as archive:
            _Checker(archive, report, tsa_roots).run()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        report.add("zip.unreadable", str(path), f"{type(exc).__name__}: {exc}")
    return report


def _consistency(report: Report, other: Report) -> None:
    if other.problems:
        report.add("against.invalid", other.path, f"{len(other.problems)} problem(s)")
    if not report.log_id or not other.log_id or not report.head or not other.head:
        return
    if report.log_id != other.log_id:
        report.add("against.log", other.path, f"{report.log_id} ≠ {other.log_id}")
        return
    if report.public_key != other.public_key:
        report.add("against.key", other.path, "different public keys")
        return
    small, large = sorted((report, other), key=lambda r: len(r.commitments))
    n = len(small.commitments)
    if large.commitments[:n] != small.commitments:
        first = next(i for i in range(n) if small.commitments[i] != large.commitments[i])
        report.add(
            "against.inconsistent",
            f"{layout.COMMITMENTS}:{first + 1}",
            f"commitment of entry {first} differs between the heads of size "
            f"{len(small.commitments)} and {len(large.commitments)}",
        )


def _hex(value: Any, length: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * length or not set(value) <= HEX:
        raise ValueError(f"not {2 * length} lowercase hex digits")
    return bytes.fromhex(value)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_float(text: str) -> Any:
    raise ValueError(f"a number that is not an integer: {text}")


def parse_json(data: bytes) -> Any:
    return json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_no_duplicate_keys,
        parse_float=_refuse_float,
        parse_constant=_refuse_float,
    )


def is_canonical(data: bytes, value: Any) -> bool:
    """docs/FORMAT.md §3.1: the bytes are exactly the canonical encoding of their value."""
    encoded = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")
    return encoded == data


def _instant(text: Any) -> datetime:
    if not isinstance(text, str):
        raise ValueError("not a time")
    value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if value.tzinfo is None:
        raise ValueError("a time without an offset")
    return value


class _Checker:
    def __init__(
        self, archive: zipfile.ZipFile, report: Report, tsa_roots: Sequence[Any] = ()
    ) -> None:
        self.archive = archive
        self.tsa_roots = list(tsa_roots)
        self.report = report
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.digests: dict[str, tuple[str, int]] = {}
        self.texts: dict[str, bytes] = {}
        self.manifest: dict[str, Any] = {}

    def problem(self, code: str, where: str, detail: str) -> None:
        self.report.add(code, where, detail)

    # --- files -------------------------------------------------------------------------------

    def run(self) -> None:
        self.members = safezip.index(self.archive, self.problem)
        for name in layout.REQUIRED:
            if name not in self.members and not any(p.where == name for p in self.report.problems):
                self.problem("file.missing", name, "required in every bundle")
        self._read_files()
        self._manifest()
        self._sums()
        key = self._key()
        self._manifest_signature(key)
        head = self._head(key)
        leaves = self._tree(head)
        self._entries(head, leaves)
        if head is not None and leaves is not None:
            from evidence.verifier import tokens

            tokens.check(self, head, leaves)
        from evidence.verifier import pdfsig

        pdfsig.check(self)

    def _read_files(self) -> None:
        small = {
            layout.MANIFEST: layout.MAX_MANIFEST_BYTES,
            layout.SUMS: layout.MAX_TEXT_BYTES,
            layout.HEAD_TEXT: 4096,
            layout.HEAD_SIG: 4096,
            layout.MANIFEST_STATEMENT: 4096,
            layout.MANIFEST_SIG: 4096,
            layout.PUBLIC_KEY: 4096,
            layout.ENTRIES: layout.MAX_TEXT_BYTES,
            layout.PROOFS: layout.MAX_TEXT_BYTES,
            layout.COMMITMENTS: layout.MAX_TEXT_BYTES,
            layout.TIMESTAMPS: layout.MAX_TEXT_BYTES,
        }
        import hashlib

        for name, info in self.members.items():
            try:
                if name in small:
                    data = safezip.read(self.archive, info, small[name])
                    self.texts[name] = data
                    self.digests[name] = (hashlib.sha256(data).hexdigest(), len(data))
                else:
                    self.digests[name] = safezip.digest(self.archive, info)
            except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
                self.problem("file.unreadable", name, str(exc))
        self.report.files = len(self.digests)

    def _manifest(self) -> None:
        data = self.texts.get(layout.MANIFEST)
        if data is None:
            return
        try:
            manifest = parse_json(data)
            if not isinstance(manifest, dict) or manifest.get("format") != layout.FORMAT:
                raise ValueError(f"not an {layout.FORMAT} manifest")
            files = manifest["files"]
            if not isinstance(files, list):
                raise ValueError("files is not a list")
            listed: dict[str, tuple[str, int]] = {}
            for item in files:
                path, size, sha = item["path"], item["size"], item["sha256"]
                if not isinstance(path, str) or not isinstance(size, int) or path in listed:
                    raise ValueError(f"bad or repeated file record {path!r}")
                _hex(sha, 32)
                listed[path] = (sha, size)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            self.problem("manifest.invalid", layout.MANIFEST, str(exc))
            return
        self.manifest = manifest
        for path, (sha, size) in listed.items():
            if path in layout.AFTER_MANIFEST:
                self.problem("manifest.invalid", layout.MANIFEST, f"lists {path}")
            elif path not in self.digests:
                if path not in self.members and not any(
                    p.where == path for p in self.report.problems
                ):
                    self.problem("file.missing", path, "listed in the manifest")
            else:
                actual_sha, actual_size = self.digests[path]
                if actual_size != size:
                    self.problem("file.size", path, f"{actual_size} bytes, manifest says {size}")
                if actual_sha != sha:
                    self.problem("file.hash", path, f"SHA-256 {actual_sha}, manifest says {sha}")
        for path in self.digests:
            if path not in listed and path not in layout.AFTER_MANIFEST:
                self.problem("file.unlisted", path, "not in manifest.json")

    def _sums(self) -> None:
        data = self.texts.get(layout.SUMS)
        if data is None:
            return
        seen: set[str] = set()
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line:
                continue
            where = f"{layout.SUMS}:{number}"
            try:
                text = line.decode("utf-8")
                sha, path = text[:64], text[66:]
                _hex(sha, 32)
                if text[64:66] != "  " or not path:
                    raise ValueError("not a `sha256sum` line")
            except (ValueError, UnicodeDecodeError) as exc:
                self.problem("sums.invalid", where, str(exc))
                continue
            seen.add(path)
            if path in self.digests and self.digests[path][0] != sha:
                self.problem("sums.mismatch", where, f"{path}: its SHA-256 differs")
            elif path not in self.digests and path not in self.members:
                self.problem("sums.mismatch", where, f"{path}: listed but not in the ZIP")
        for path in self.digests:
            if path not in seen and path != layout.SUMS:
                self.problem("sums.mismatch", layout.SUMS, f"{path}: not listed")

    # --- key, head, tree ---------------------------------------------------------------------

    def _key(self) -> bytes | None:
        data = self.texts.get(layout.PUBLIC_KEY)
        if data is None:
            return None
        try:
            text = data.decode("ascii").strip().splitlines()
            if text[0] != "-----BEGIN PUBLIC KEY-----" or text[-1] != "-----END PUBLIC KEY-----":
                raise ValueError("not a PEM public key")
            der = base64.b64decode("".join(text[1:-1]), validate=True)
            if len(der) != 44 or not der.startswith(_SPKI_ED25519):
                raise ValueError("not an Ed25519 public key")
        except (ValueError, UnicodeDecodeError, IndexError, binascii.Error) as exc:
            self.problem("key.invalid", layout.PUBLIC_KEY, str(exc))
            return None
        key = der[len(_SPKI_ED25519) :]
        self.report.public_key = key
        stated = self.manifest.get("log", {}) if self.manifest else {}
        if self.manifest and stated.get("public_key") != key.hex():
            self.problem("key.mismatch", layout.MANIFEST, "log.public_key differs from pub.pem")
        return key

    def _manifest_signature(self, key: bytes | None) -> None:
        """The log key vouches for the manifest, and through its hashes for every file.

        Without this, someone could rewrite the PDF (or the title, or the borrower's
        name) and both hash lists, and the bundle would still check.
        """
        data = self.texts.get(layout.MANIFEST)
        statement = self.texts.get(layout.MANIFEST_STATEMENT)
        signature = self.texts.get(layout.MANIFEST_SIG)
        if data is None or statement is None or signature is None or not self.manifest:
            return
        log_id = self.manifest.get("log", {}).get("id")
        expected = (
            f"{layout.STATEMENT_PREFIX}\nlog {log_id}\n"
            f"manifest-sha256 {hashlib.sha256(data).hexdigest()}\n"
        ).encode("ascii", "replace")
        if statement != expected:
            self.problem(
                "manifest.statement",
                layout.MANIFEST_STATEMENT,
                "does not name this manifest's SHA-256 and log",
            )
            return
        if key is None:
            return
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(key).verify(signature, statement)
        except (InvalidSignature, ValueError):
            self.problem(
                "manifest.signature",
                layout.MANIFEST_SIG,
                "the log key did not sign this manifest (the PDF or another file was replaced)",
            )

    def _head(self, key: bytes | None) -> dict[str, Any] | None:
        data = self.texts.get(layout.HEAD_TEXT)
        if data is None:
            return None
        try:
            text = data.decode("ascii")
            lines = text.split("\n")
            if len(lines) != 6 or lines[5] != "" or lines[0] != HEAD_PREFIX:
                raise ValueError("not the five lines of an evidence-log-head/v1")
            fields = {}
            for line, name in zip(lines[1:5], ("log", "size", "root", "time"), strict=True):
                label, _, value = line.partition(" ")
                if label != name or not value:
                    raise ValueError(f"expected a line `{name} …`")
                fields[name] = value
            size = fields["size"]
            if not size.isdigit() or (size != "0" and size.startswith("0")):
                raise ValueError("size is not a decimal number")
            head = {
                "log": fields["log"],
                "size": int(size),
                "root": fields["root"],
                "signed_at": fields["time"],
            }
            _hex(head["root"], 32)
        except (ValueError, UnicodeDecodeError) as exc:
            self.problem("head.invalid", layout.HEAD_TEXT, str(exc))
            return None
        signature = self.texts.get(layout.HEAD_SIG, b"")
        head["signature"] = signature.hex()
        if key is not None and layout.HEAD_SIG in self.texts:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            try:
                Ed25519PublicKey.from_public_bytes(key).verify(signature, data)
            except (InvalidSignature, ValueError):
                self.problem("head.signature", layout.HEAD_SIG, "Ed25519 over head.txt")
        stated = self.manifest.get("head") if self.manifest else None
        if self.manifest:
            if stated != head:
                self.problem("head.mismatch", layout.MANIFEST, "head differs from head.txt/.sig")
            if self.manifest.get("log", {}).get("id") != head["log"]:
                self.problem("head.mismatch", layout.MANIFEST, "log.id differs from head.txt")
        self.report.log_id = head["log"]
        self.report.head = head
        return head

    def _tree(self, head: dict[str, Any] | None) -> list[bytes] | None:
        data = self.texts.get(layout.COMMITMENTS)
        if data is None or head is None:
            return None
        lines = data.split(b"\n")
        if lines[-1] != b"":
            self.problem("tree.invalid", layout.COMMITMENTS, "does not end with a line feed")
            return None
        commitments: list[bytes] = []
        for number, line in enumerate(lines[:-1], start=1):
            try:
                commitments.append(_hex(line.decode("ascii"), 32))
            except (ValueError, UnicodeDecodeError) as exc:
                self.problem("tree.invalid", f"{layout.COMMITMENTS}:{number}", str(exc))
                return None
        if len(commitments) != head["size"]:
            self.problem(
                "tree.invalid",
                layout.COMMITMENTS,
                f"{len(commitments)} commitments for a head of size {head['size']}",
            )
            return None
        leaves = [merkle.leaf(c) for c in commitments]
        if merkle.root(leaves).hex() != head["root"]:
            self.problem("tree.root", layout.COMMITMENTS, "the root of these commitments")
            return None
        self.report.commitments = commitments
        return leaves

    # --- entries and attachments -------------------------------------------------------------

    def _entries(self, head: dict[str, Any] | None, leaves: list[bytes] | None) -> None:
        entries = self.texts.get(layout.ENTRIES)
        proofs = self.texts.get(layout.PROOFS)
        if entries is None or proofs is None or head is None:
            return
        entry_lines = entries.split(b"\n")
        proof_lines = proofs.split(b"\n")
        for name, lines in ((layout.ENTRIES, entry_lines), (layout.PROOFS, proof_lines)):
            if lines[-1] != b"":
                self.problem("entry.invalid", name, "does not end with a line feed")
                return
        if len(entry_lines) != len(proof_lines):
            self.problem(
                "entry.invalid",
                layout.PROOFS,
                f"{len(proof_lines) - 1} proofs for {len(entry_lines) - 1} entries",
            )
            return
        root = bytes.fromhex(head["root"])
        seqs: list[int] = []
        committed: dict[str, tuple[int, int]] = {}  # attachment sha256 -> (size, seq)
        selection = self.manifest.get("selection", {}) if self.manifest else {}
        for number, (data, proof_data) in enumerate(
            zip(entry_lines[:-1], proof_lines[:-1], strict=True), start=1
        ):
            where = f"{layout.ENTRIES}:{number}"
            try:
                document = parse_json(data)
                proof = parse_json(proof_data)
                seq = document["seq"]
                salt = _hex(proof["salt"], 32)
                stated = _hex(proof["commitment"], 32)
                path = [_hex(p, 32) for p in proof["inclusion"]]
                if not isinstance(seq, int) or proof["seq"] != seq:
                    raise ValueError("the proof is for another entry")
                if seqs and seq <= seqs[-1]:
                    raise ValueError("entries are not in increasing seq order")
                if document.get("log") != head["log"] or document.get("v") != 1:
                    raise ValueError("not a version-1 entry of this log")
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                self.problem("entry.invalid", where, str(exc))
                continue
            seqs.append(seq)
            for attachment in document.get("attachments", []):
                try:
                    committed.setdefault(str(attachment["sha256"]), (int(attachment["size"]), seq))
                except (KeyError, TypeError, ValueError):
                    self.problem("entry.invalid", where, "an attachment record")
            if not is_canonical(data, document):
                self.problem("entry.canonical", where, f"entry {seq}")
            value = merkle.commitment(salt, data)
            if value != stated or (
                leaves is not None and seq < len(leaves) and self.report.commitments[seq] != value
            ):
                self.problem("entry.commitment", where, f"entry {seq}")
                continue
            if not merkle.verify_inclusion(merkle.leaf(value), seq, head["size"], path, root):
                self.problem("entry.proof", f"{layout.PROOFS}:{number}", f"entry {seq}")
            self._selected(document, selection, where)
        self.report.entries = len(seqs)
        if self.manifest and selection.get("seqs") != seqs:
            self.problem("entry.selection", layout.MANIFEST, "selection.seqs ≠ the entries")
        self._attachments(committed)

    def _selected(self, document: dict[str, Any], selection: dict[str, Any], where: str) -> None:
        if document.get("kind") in ("amend", "retract"):
            return
        platforms = selection.get("platforms") or []
        fields = document.get("fields") or {}
        if platforms and fields.get("platform") not in platforms:
            self.problem("entry.selection", where, "platform outside the stated selection")
        try:
            when = _instant(document.get("occurred_at"))
            since, until = selection.get("since"), selection.get("until")
            if (since and when < _instant(since)) or (until and when >= _instant(until)):
                self.problem("entry.selection", where, "time outside the stated period")
        except ValueError as exc:
            self.problem("entry.invalid", where, str(exc))

    def _attachments(self, committed: dict[str, tuple[int, int]]) -> None:
        records = self.manifest.get("attachments", []) if self.manifest else []
        by_sha: dict[str, str] = {}
        for record in records if isinstance(records, list) else []:
            try:
                by_sha[str(record["sha256"])] = str(record["path"])
            except (KeyError, TypeError):
                self.problem("manifest.invalid", layout.MANIFEST, "an attachment record")
        referenced = set()
        for sha, (size, seq) in committed.items():
            path = by_sha.get(sha)
            if path is None or path not in self.members:
                self.problem("attachment.missing", path or f"sha256 {sha}", f"of entry {seq}")
                continue
            referenced.add(path)
            actual = self.digests.get(path)
            if actual is None:
                continue
            if actual != (sha, size):
                self.problem(
                    "attachment.mismatch",
                    path,
                    f"entry {seq} committed SHA-256 {sha} and {size} bytes; "
                    f"the file has {actual[0]} and {actual[1]} bytes",
                )
        for name in self.members:
            if name.startswith(layout.ATTACHMENTS_DIR) and name not in referenced:
                self.problem("attachment.unexpected", name, "no disclosed entry refers to it")
        self.report.attachments = len(referenced)
