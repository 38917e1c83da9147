"""The evidence bundle: a dated PDF and a verifiable ZIP for complaints and courts.

:func:`build_bundle` selects entries (:mod:`selection`), computes the summary
(:mod:`stats`), numbers the evidence (:mod:`index`), renders the PDF (:mod:`pdf`)
and packages everything with proofs and a manifest (:mod:`package`). The
format is docs/BUNDLE-FORMAT.md; :mod:`evidence.verifier` checks it.
"""

from __future__ import annotations

import gc
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidence.bundle.selection import Options, Selection, select_entries

if TYPE_CHECKING:
    from evidence.ledger import Log
    from evidence.model import Entry

__all__ = ["BundleResult", "Options", "Selection", "build_bundle"]


@dataclass(frozen=True)
class BundleResult:
    path: Path
    entries: int
    events: int
    attachments: int
    pages: int
    bytes: int
    head_size: int


def build_bundle(log: Log, out: Path, options: Options) -> BundleResult:
    """Write the bundle for ``options`` to ``out``; nothing is written when nothing matches."""
    everything = log.entries()
    selection = select_entries(everything, options)
    # Hundreds of thousands of long-lived objects (entries, layout) make every full
    # garbage collection scan them all again: time grew faster than the entries. They
    # are freed when the bundle is done; freezing them keeps collections cheap meanwhile.
    gc.freeze()
    try:
        return _build(log, out, options, everything, selection)
    finally:
        gc.unfreeze()


def _build(
    log: Log, out: Path, options: Options, everything: list[Entry], selection: Selection
) -> BundleResult:
    from evidence import __version__, crypto, hashing, merkle, timeutil
    from evidence.bundle import findings, fonts, index, package, pdf, stats, table, verify_text
    from evidence.errors import IntegrityFailure, NotFound
    from evidence.verifier import layout

    if not selection.events:
        raise NotFound("no entries match this selection: no bundle was written")
    head = log.head()
    tree = merkle.Tree([hashing.leaf(e.commitment) for e in everything])
    if head.size != len(everything) or tree.root() != head.root:
        raise IntegrityFailure(
            "the newest signed head does not cover the log as it is: run `evidence check`"
        )
    generated_at = log.store.clock()
    zone = log.zone
    zone_name = log.info.zone
    line_of = {e.seq: n for n, e in enumerate(selection.entries, start=1)}
    items = index.build(selection, options.lang, zone_name)
    font = fonts.load()

    with tempfile.TemporaryDirectory(prefix="evidence-bundle-") as work:
        folder = Path(work)
        files: dict[str, Path] = {}
        for item in items:
            if item.attachment is None:
                continue
            target = folder / f"att-{item.attachment.sha256}"
            sha = hashlib.sha256()
            with target.open("wb") as sink:
                for chunk in log.read_attachment(item.attachment.sha256):
                    sha.update(chunk)
                    sink.write(chunk)
            if sha.hexdigest() != item.attachment.sha256:
                raise IntegrityFailure(f"attachment {item.attachment.sha256} does not match")
            files[item.attachment.sha256] = target
        stamps = _stamps(log, everything)
        found = findings.report(everything, selection, options, options.jurisdiction).findings
        draft = findings.complaint(everything, selection, options) if options.complaint else None
        document = pdf.Document(
            options,
            selection,
            stats.compute(selection.entries, selection.corrections, zone),
            items,
            zone,
            zone_name,
            log.log_id,
            log.info.fingerprint,
            head,
            crypto.public_key_pem(log.info.public_key),
            generated_at,
            files,
            line_of,
            stamps,
            found,
        )
        pdf_path = folder / layout.PDF
        pages = pdf.render(pdf_path, document, font)
        signed = _sign_pdf(log, pdf_path, options.pdf_signing)
        disclosures = log.disclose(selection.seqs)

        def fill(archive: object) -> None:
            writer = package.ZipWriter(archive, generated_at.astimezone(zone))  # type: ignore[arg-type]
            writer.add(
                layout.VERIFY_TEXT,
                [
                    verify_text.verify_text(
                        log.log_id,
                        log.info.fingerprint,
                        head.size,
                        head.root.hex(),
                        head.signed_at,
                    )
                ],
            )
            writer.add(layout.PDF, package.file_chunks(pdf_path))
            writer.add(layout.HEAD_TEXT, [head.message()])
            writer.add(layout.HEAD_SIG, [head.signature])
            writer.add(layout.PUBLIC_KEY, [crypto.public_key_pem(log.info.public_key).encode()])
            writer.add(layout.ENTRIES, (d.canonical + b"\n" for d in disclosures))
            writer.add(
                layout.PROOFS,
                (
                    json.dumps(
                        {
                            "seq": d.seq,
                            "salt": d.salt.hex(),
                            "commitment": d.commitment.hex(),
                            "inclusion": [p.hex() for p in tree.inclusion_proof(d.seq)],
                        },
                        sort_keys=True,
                        separators=(",", ":"),
                    ).encode()
                    + b"\n"
                    for d in disclosures
                ),
            )
            writer.add(
                layout.COMMITMENTS, (e.commitment.hex().encode() + b"\n" for e in everything)
            )
            writer.add(layout.TABLE, table.rows(selection.entries, zone))
            _add_stamps(writer, stamps, tree, log.log_id)
            if draft is not None:
                writer.add(layout.COMPLAINT, [draft])
            attachments = []
            for item in items:
                if item.attachment is None:
                    continue
                writer.add(item.path, package.file_chunks(files[item.attachment.sha256]))
                attachments.append(
                    {
                        "path": item.path,
                        "item": item.number,
                        "entries": item.entries,
                        **item.attachment.to_dict(),
                    }
                )
            writer.finish(
                {
                    "format": layout.FORMAT,
                    "generator": f"evidence {__version__}",
                    "generated_at": timeutil.format_canonical(generated_at),
                    "log": {
                        "id": log.log_id,
                        "zone": zone_name,
                        "public_key": log.info.public_key.hex(),
                        "fingerprint": log.info.fingerprint,
                    },
                    "head": {
                        "log": head.log_id,
                        "size": head.size,
                        "root": head.root.hex(),
                        "signed_at": head.signed_at,
                        "signature": head.signature.hex(),
                    },
                    "selection": {
                        "platforms": list(options.platforms),
                        "since": timeutil.format_canonical(options.since)
                        if options.since
                        else None,
                        "until": timeutil.format_canonical(options.until)
                        if options.until
                        else None,
                        "lang": options.lang,
                        "purpose": options.purpose,
                        "title": options.title,
                        "borrower": options.borrower,
                        "seqs": selection.seqs,
                        "jurisdiction": options.jurisdiction,
                        "complaint": options.complaint,
                    },
                    "attachments": attachments,
                    "pdf": {"pages": pages, "font_embedded": font.embedded, "signed": signed},
                },
                log.sign_bundle_manifest,
            )

        package.write_atomically(out, fill)
    return BundleResult(
        out,
        len(selection.entries),
        len(selection.events),
        sum(1 for i in items if i.attachment),
        pages,
        out.stat().st_size,
        head.size,
    )


def _stamps(log: Log, everything: list[Entry]) -> list:
    """The log's RFC 3161 tokens that check against its own signed heads (oldest first)."""
    from evidence import timestamps

    good, _problems = timestamps.stamps(log.heads(), everything)
    return good


def _add_stamps(writer: object, stamps: list, tree: object, log_id: str) -> None:
    """timestamps/<entry>.head.txt and .tsr, and timestamps.jsonl with consistency proofs."""
    from evidence import timeutil
    from evidence.verifier import layout

    if not stamps:
        return  # no timestamps.jsonl: the bundle is as before timestamps existed
    records = []
    for stamp in stamps:
        head_file = f"{layout.TIMESTAMPS_DIR}{stamp.seq}.head.txt"
        token_file = f"{layout.TIMESTAMPS_DIR}{stamp.seq}.tsr"
        writer.add(head_file, [stamp.head_text])  # type: ignore[attr-defined]
        writer.add(token_file, [stamp.token])  # type: ignore[attr-defined]
        lines = dict(line.split(" ", 1) for line in stamp.head_text.decode().splitlines()[1:])
        records.append(
            json.dumps(
                {
                    "entry": stamp.seq,
                    "tsa": stamp.tsa,
                    "gen_time": timeutil.format_canonical(stamp.gen_time),
                    "head_size": stamp.head_size,
                    "head_root": lines["root"],
                    "head_signed_at": lines["time"],
                    "head_file": head_file,
                    "token_file": token_file,
                    "consistency": [
                        p.hex()
                        for p in tree.consistency_proof(stamp.head_size)  # type: ignore[attr-defined]
                    ],
                },
                sort_keys=True,
                separators=(",", ":"),
            ).encode()
            + b"\n"
        )
    writer.add(layout.TIMESTAMPS, records)  # type: ignore[attr-defined]


def _sign_pdf(log: Log, path: Path, settings: Any = None) -> str | None:
    """Sign the PDF (PAdES, pyHanko) when pyHanko is installed; return "pades" or None."""
    from evidence.bundle import pades

    if not pades.available():
        return None
    pades.sign_pdf(path, *pades.log_certificate(log), settings)
    return "pades"
