"""An entry's canonical bytes, joined from pieces instead of encoding a whole document.

Appending spends most of its time turning entries into canonical JSON. The
document's outer keys are fixed and sorted (attachments, fields, kind, log,
occurred_at, recorded_at, seq, source, v, zone), and the log's id and zone are
the same for every entry, so only the draft's own values need the JSON
encoder; the rest is text made once per log. ``tests/test_entry_bytes.py``
holds the result byte-equal to ``canonical.encode(model.canonical_document(…))``.
"""

from __future__ import annotations

from evidence import canonical, model, timeutil
from evidence.model import Draft

_KIND_BYTES = {kind: canonical.encode(kind) for kind in model.KINDS}


class EntryEncoder:
    """Canonical bytes of the entries of one log."""

    def __init__(self, log_id: str, zone: str) -> None:
        self._log_id, self._zone = log_id, zone
        self._middle = b',"log":' + canonical.encode(log_id) + b',"occurred_at":"'
        self._tail = b',"v":1,"zone":' + canonical.encode(zone) + b"}"

    def encode(self, seq: int, draft: Draft, recorded_text: str) -> bytes:
        """The bytes of ``canonical_document(log, seq, draft, recorded_at, zone)``.

        ``recorded_text`` is ``timeutil.format_canonical(recorded_at)``, which the
        caller has at hand already.
        """
        kind = _KIND_BYTES.get(draft.kind)
        if kind is None or type(seq) is not int or not 0 <= seq <= canonical.MAX_SAFE_INTEGER:
            return self._general(seq, draft, recorded_text)
        encode = canonical.encode
        attachments = (
            encode([a.to_dict() for a in draft.attachments], "$.attachments")
            if draft.attachments
            else b"[]"
        )
        parts = [
            b'{"attachments":',
            attachments,
            b',"fields":',
            encode(draft.fields, "$.fields"),
            b',"kind":',
            kind,
            self._middle,
            timeutil.format_canonical(draft.occurred_at).encode(),
            b'","recorded_at":"',
            recorded_text.encode(),
            b'","seq":',
            str(seq).encode(),
        ]
        if draft.source:
            parts += (b',"source":', encode(draft.source, "$.source"))
        parts.append(self._tail)
        return b"".join(parts)

    def _general(self, seq: int, draft: Draft, recorded_text: str) -> bytes:
        recorded_at = timeutil.parse_canonical(recorded_text)
        document = model.canonical_document(self._log_id, seq, draft, recorded_at, self._zone)
        return canonical.encode(document)
