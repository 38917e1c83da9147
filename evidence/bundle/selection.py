"""Which entries go into a bundle: by platform and period, with their corrections.

An amendment or retraction goes with the entry it corrects, whatever its own
time; a correction of an entry left out is left out too, so nothing of an
excluded entry reaches the bundle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from evidence.errors import InvalidInput
from evidence.model import CORRECTION_KINDS, RECORD_KINDS, Entry

if TYPE_CHECKING:
    from evidence.ledger import Log

PURPOSES = ("complaint", "civil", "criminal")
LANGUAGES = ("zh", "en")
JURISDICTIONS = ("cn", "us", "uk")  # evidence.rules.registry.JURISDICTIONS
COMPLAINT_TARGETS = ("12378", "nifa", "12321", "police", "court", "cfpb")


@dataclass(frozen=True)
class Options:
    """What the borrower asked for."""

    platforms: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    lang: str = "zh"
    title: str = ""
    borrower: str = ""
    purpose: str = "complaint"
    jurisdiction: str = "cn"  # whose collection-conduct rules the findings section applies
    complaint: str | None = None  # a complaint target: add its draft as complaint.txt
    # The rule set the complaint draft applies; None: the recipient's own (12378 → cn,
    # cfpb → us), as `evidence complaint` does without --jurisdiction.
    complaint_jurisdiction: str | None = None
    # How the PDF is signed and timestamped (evidence.bundle.pades.PdfSigning); it also
    # reports what happened. None: the log's own certificate, settings from pades.configured.
    pdf_signing: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for chosen in (self.jurisdiction, self.complaint_jurisdiction or self.jurisdiction):
            if chosen not in JURISDICTIONS:
                raise InvalidInput(f"jurisdiction must be one of {', '.join(JURISDICTIONS)}")
        if self.complaint is not None and self.complaint not in COMPLAINT_TARGETS:
            raise InvalidInput(f"complaint must be one of {', '.join(COMPLAINT_TARGETS)}")
        if self.lang not in LANGUAGES:
            raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}")
        if self.purpose not in PURPOSES:
            raise InvalidInput(f"purpose must be one of {', '.join(PURPOSES)}")
        if self.since and self.until and self.until <= self.since:
            raise InvalidInput("the period ends before it starts")


@dataclass
class Selection:
    """The chosen entries in log order; ``corrections`` maps an event's seq to its corrections."""

    entries: list[Entry]
    corrections: dict[int, list[Entry]] = field(default_factory=dict)

    @property
    def events(self) -> list[Entry]:
        return [e for e in self.entries if e.kind not in CORRECTION_KINDS]

    @property
    def seqs(self) -> list[int]:
        return [e.seq for e in self.entries]


def matches(entry: Entry, options: Options) -> bool:
    if options.platforms and entry.fields.get("platform") not in options.platforms:
        return False
    if options.since is not None and entry.occurred_at < options.since:
        return False
    return options.until is None or entry.occurred_at < options.until


def select_entries(entries: Sequence[Entry], options: Options) -> Selection:
    chosen = {
        e.seq
        for e in entries
        if e.kind not in CORRECTION_KINDS and e.kind not in RECORD_KINDS and matches(e, options)
    }
    corrections: dict[int, list[Entry]] = {}
    kept: list[Entry] = []
    for entry in entries:
        if entry.kind in CORRECTION_KINDS:
            if entry.target not in chosen:
                continue
            corrections.setdefault(entry.target or 0, []).append(entry)
        elif entry.seq not in chosen:
            continue
        kept.append(entry)
    return Selection(kept, corrections)


def select(log: Log, options: Options) -> Selection:
    return select_entries(log.entries(), options)
