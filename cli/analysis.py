"""`evidence analyze` and `evidence complaint`: findings with citations, complaint drafts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from cli import context
from cli.context import store_options
from cli.render import clean, table, to_json

JURISDICTIONS = ["cn", "us", "uk"]
TARGETS = ["12378", "nifa", "12321", "police", "court", "cfpb"]

PLATFORM = click.option("--platform", help="Only this platform (lender), e.g. 京东金条.")
ZONE = click.option(
    "--zone",
    help="The borrower's time zone, e.g. America/New_York "
    "(default: debtor_zone facts in the log, else the log's zone).",
)
LEXICON = click.option(
    "--lexicon",
    "lexicon_file",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="A file of extra 'signal: phrase' lines for the content lexicon.",
)


def _report(
    where: Any,
    jurisdiction: str,
    zone: str | None,
    platform: str | None,
    since: str | None,
    until: str | None,
    lexicon_file: Path | None,
) -> Any:
    from evidence import rules, timeutil

    words = rules.load_lexicon(lexicon_file)  # a bad file fails before the passphrase
    chosen = timeutil.zone(zone) if zone else None
    log = context.unlock(where)
    days_in = chosen or log.zone  # --since/--until are local days of the zone analysed
    start = timeutil.parse_day(since, days_in) if since else None
    end = timeutil.parse_day(until, days_in, end=True) if until else None
    # The analysis cache: a log analysed before is not parsed again (see analysis_cache).
    return rules.report(log.analysis_source(), jurisdiction, zone, platform, start, end, words)


def _days(days: tuple[str, ...]) -> str:
    if not days:
        return ""
    return days[0] if len(days) == 1 else f"{len(days)}: {days[0]}…{days[-1]}"


def _entries(seqs: tuple[int, ...], limit: int = 6) -> str:
    shown = ",".join(f"#{s}" for s in seqs[:limit])
    return shown + (f",…(+{len(seqs) - limit})" if len(seqs) > limit else "")


@click.command()
@store_options
@click.option(
    "--jurisdiction",
    type=click.Choice(JURISDICTIONS),
    default="cn",
    show_default=True,
    help="Whose rules: cn (mainland China), us (FDCPA / Reg F), uk (FCA CONC 7.9).",
)
@PLATFORM
@click.option("--since", help="From this date or time (local), e.g. 2026-11-01.")
@click.option("--until", help="Up to the end of this date (local).")
@ZONE
@LEXICON
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", help="Language of rules.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def analyze(
    store_path: Path | None,
    database_url: str | None,
    log_id: str | None,
    jurisdiction: str,
    platform: str | None,
    since: str | None,
    until: str | None,
    zone: str | None,
    lexicon_file: Path | None,
    lang: str,
    as_json: bool,
) -> None:
    """Check the log against collection-conduct rules, with citations.

    Each finding gives the rule, how many events on how many local days, the entry
    numbers, the citation and the tier of the instrument (law, regulation, industry or
    recommended standard). "stated" means you tagged it; "inferred" means the lexicon
    found it in the recorded words: read those entries before relying on them.
    Retracted entries do not count; amendments are applied.
    """
    where = context.location(store_path, database_url, log_id)
    report = _report(where, jurisdiction, zone, platform, since, until, lexicon_file)
    if as_json:
        click.echo(to_json(report.to_dict()))
        return
    s = report.summary
    click.echo(
        f"{s.events} events ({clean(', '.join(s.platforms), one_line=True) or 'no platform'}); "
        f"times in {clean(s.zone)}; rules: {jurisdiction}."
    )
    if not report.findings:
        click.echo("No rule of this jurisdiction is broken by the recorded events.")
        return
    rows = [
        [
            f.rule_id,
            f.tier_text(lang),
            str(f.events),
            _days(f.days),
            _entries(f.entries),
            f.basis,
        ]
        for f in report.findings
    ]
    click.echo(table(["rule", "tier", "events", "days", "entries", "basis"], rows, {1: 22}))
    click.echo("")
    for f in report.findings:
        click.echo(f"{f.rule_id}: {clean(f.rule(lang))}")
        click.echo(f"    {clean(f.detail(lang))}")
        click.echo(f"    {f.verdict_en}: {clean(f.citation())}")
    click.echo(
        "\nNot legal advice. 'inferred' findings come from a word list: check the entries. "
        "Items marked UNCONFIRMED are not settled; see docs/rules.md."
    )


@click.command()
@store_options
@click.option(
    "--to", "target", type=click.Choice(TARGETS), required=True, help="Who the draft is for."
)
@click.option(
    "--jurisdiction",
    type=click.Choice(JURISDICTIONS),
    help="Whose rules the draft cites (default: the recipient's: us for cfpb, else cn).",
)
@PLATFORM
@click.option("--lang", type=click.Choice(["zh", "en"]), help="zh (default) or en (cfpb: en).")
@click.option("--since", help="From this date or time (local).")
@click.option("--until", help="Up to the end of this date (local).")
@ZONE
@LEXICON
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def complaint(
    store_path: Path | None,
    database_url: str | None,
    log_id: str | None,
    target: str,
    jurisdiction: str | None,
    platform: str | None,
    lang: str | None,
    since: str | None,
    until: str | None,
    zone: str | None,
    lexicon_file: Path | None,
    out: Path | None,
    force: bool,
) -> None:
    """Write a DRAFT complaint letter filled in from the log, for you to review.

    --to 12378 (financial regulator), nifa (internet-finance association), 12321 (spam
    and harassing numbers), police, court (a civil complaint), cfpb (United States).
    The draft states who, since when, how many calls and night calls, how many numbers,
    which contacts were reached, verbatim quotes, the findings with citations, the
    remedy asked for and the attachments. --jurisdiction chooses the rule set whose
    findings and citations it states (and what counts as night); by default the
    recipient's. Check every sentence before sending it.
    """
    from evidence.errors import Conflict
    from evidence.rules import complaint as drafting

    if out is not None and out.exists() and not force:
        raise Conflict(f"{out} exists: choose another --out or add --force")
    where = context.location(store_path, database_url, log_id)
    rule_set = jurisdiction or drafting.JURISDICTION[target]
    report = _report(where, rule_set, zone, platform, since, until, lexicon_file)
    text = drafting.draft(report, target, lang or ("en" if target == "cfpb" else "zh"))
    if out is None:
        click.echo(clean(text), nl=False)
        return
    handle, temp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=".draft-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            sink.write(text)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    click.echo(f"Wrote the draft to {clean(out)}: review it before sending.")
