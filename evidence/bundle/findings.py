"""The findings section: collection-conduct rules applied to exactly the entries in the bundle.

The rules see the selected events (with their corrections) and every recorded fact
(agreed times, refusals, the debtor's zone: facts recorded earlier still apply), so
each entry number a finding names is an entry of this bundle's chronological log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidence.bundle.selection import Options, Selection
    from evidence.model import Entry


def _entries(everything: Sequence[Entry], selection: Selection) -> list[Entry]:
    chosen = {e.seq for e in selection.entries}
    return [e for e in everything if e.seq in chosen or e.kind == "fact"]


def _platform(options: Options) -> str | None:
    return options.platforms[0] if len(options.platforms) == 1 else None


def report(
    everything: Sequence[Entry], selection: Selection, options: Options, jurisdiction: str
) -> Any:
    """A :class:`evidence.rules.Report` over the bundle's entries under ``jurisdiction``."""
    from evidence import rules

    return rules.report(
        _entries(everything, selection), jurisdiction, None, _platform(options), None, None
    )


def complaint(everything: Sequence[Entry], selection: Selection, options: Options) -> bytes:
    """The draft complaint for ``options.complaint``, as UTF-8: under the recipient's own
    rule set unless ``options.complaint_jurisdiction`` names another (the draft says so)."""
    from evidence.rules import complaint as drafting

    target = options.complaint or ""
    lang = "en" if target == "cfpb" else options.lang
    rule_set = options.complaint_jurisdiction or drafting.JURISDICTION[target]
    found = report(everything, selection, options, rule_set)
    return drafting.draft(found, target, lang).encode("utf-8")
