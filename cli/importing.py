"""`evidence import PATH…`: bring in what is already on the phone, resumably."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from cli import context
from cli.context import store_options
from cli.render import clean

FORMATS = ["auto", "sbr-xml", "ios-backup", "recordings", "csv", "vmsg", "android-db"]
SHOWN = 20


class ProgressBar:
    """Records and bytes, rate and ETA on stderr; only on a terminal, after one second."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, records: int, done: int, total: int) -> None:
        now = time.monotonic()
        elapsed = now - self.start
        if not self.enabled or elapsed < 1 or now - self.last < 0.2:
            return
        self.last = now
        rate = records / elapsed
        line = f"{records:,} records, {done / 2**20:,.1f}/{total / 2**20:,.1f} MiB, {rate:,.0f}/s"
        if total and done:
            fraction = min(done / total, 1.0)
            bar = "#" * int(fraction * 20)
            eta = elapsed / fraction - elapsed if fraction else 0
            line = f"[{bar:<20}] {fraction:4.0%} {line}, ETA {eta:,.0f} s"
        click.echo("\r" + line + " " * 4, nl=False, err=True)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("\r" + " " * 100 + "\r", nl=False, err=True)


@click.command(name="import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="The format of every PATH (auto: found from the content).",
)
@click.option(
    "--numbers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Keep only these numbers (one a line, optionally ', platform'), plus --keywords matches.",
)
@click.option(
    "--keywords",
    multiple=True,
    metavar="WORDS",
    help="Keep only texts holding one of these words (comma-separated, repeatable); "
    "'default' adds 逾期, 还款, 催收, 法务, 上门, 征信, 起诉, 律师函 and more.",
)
@click.option(
    "--platform-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Lines 'NUMBER-OR-WORD = PLATFORM' assigning each record a platform.",
)
@click.option("--since", help="Keep only records from this day or time on (log's zone).")
@click.option("--until", help="Keep only records before the end of this day or before this time.")
@click.option(
    "--map",
    "column_map",
    metavar="ROLE=COLUMN,…",
    help="CSV columns, e.g. number=From,at=Date,body=Text,direction=Type,duration=Secs.",
)
@click.option(
    "--zone",
    help="Zone of times written without one (recording names, CSV); default: the log's zone.",
)
@click.option("--dry-run", is_flag=True, help="Read and count everything; write nothing.")
@click.option(
    "--keep-source/--no-keep-source",
    default=True,
    show_default=True,
    help="Keep each imported file itself, encrypted, as the original.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; the summary only.")
@click.option(
    "--tsa",
    "tsas",
    multiple=True,
    metavar="URL",
    help="Timestamp the log after the import with this TSA (repeatable; default: "
    "$EVIDENCE_TSA when set). A failed timestamp never undoes the import.",
)
@click.option(
    "--no-timestamp", is_flag=True, help="Do not timestamp after the import, even with a TSA set."
)
@store_options
def import_command(paths: tuple[Path, ...], format_: str, numbers: Path | None,
                   keywords: tuple[str, ...], platform_map: Path | None, since: str | None,
                   until: str | None, column_map: str | None, zone: str | None, dry_run: bool,
                   keep_source: bool, quiet: bool, tsas: tuple[str, ...], no_timestamp: bool,
                   **store: Any) -> None:  # fmt: skip
    """Import calls, SMS/MMS and recordings already on the phone.

    PATH is an Android "SMS Backup & Restore" file (sms-….xml, calls-….xml, or
    their unencrypted ZIP), an iPhone sms.db or CallHistory.storedata or an
    unencrypted iTunes/Finder backup folder, a folder of call recordings, or a
    CSV export. How to get each from a phone: docs/importing.md.

    Resumable: records are appended in batches of 1000, each committed with
    its signed head. Every record has a dedup key, so running the same import
    again (after Ctrl-C, a failure, or with a newer overlapping backup) adds
    only what is missing, never a duplicate. The summary says what was new,
    already in the log, skipped by the filters, or rejected (with where and why).
    """
    from evidence import timeutil
    from evidence.importers import csvfile, selection
    from evidence.importers.engine import ImportOptions, ImportRun

    where = context.location(store["store_path"], store["database_url"], store["log_id"])
    log = context.unlock(where)
    assumed = timeutil.zone(zone) if zone else log.zone
    picked = selection.Selection(keywords=selection.keywords_from(keywords))
    if numbers:
        picked.numbers, picked.platform_numbers = selection.read_numbers(numbers)
    if platform_map:
        by_number, by_keyword = selection.read_platform_map(platform_map)
        picked.platform_numbers.update(by_number)
        picked.platform_keywords = by_keyword
    if since:
        picked.since = timeutil.parse_day(since, log.zone)
    if until:
        picked.until = timeutil.parse_day(until, log.zone, end=True)
    options = ImportOptions(
        format=format_, selection=picked, zone=assumed, keep_source=keep_source,
        dry_run=dry_run, csv_map=csvfile.parse_map(column_map) if column_map else {},
        read_ahead=True,
    )  # fmt: skip
    bar = ProgressBar(enabled=not quiet and sys.stderr.isatty())
    run = ImportRun(log, options, progress=bar)
    try:
        run.run(list(paths))
    except KeyboardInterrupt:
        bar.close()
        _print_summary(run.summary)
        click.echo(
            "interrupted: the batches above are committed; run the same command again to "
            "finish (nothing will be duplicated).",
            err=True,
        )
        sys.exit(130)
    except BaseException:
        bar.close()
        if run.summary.new or run.summary.attached:
            click.echo(
                f"note: {run.summary.new + run.summary.attached} entries were committed before "
                "the error; fix it and run the same command again to resume.",
                err=True,
            )
        raise
    bar.close()
    if not dry_run:
        context.remember_head(log.head())
    _print_summary(run.summary)
    if not dry_run and not no_timestamp and (run.summary.new or run.summary.attached):
        _timestamp_after_import(log, tsas)


def _timestamp_after_import(log: Any, tsas: tuple[str, ...]) -> None:
    """One token covers everything just imported; a failure is reported, never fatal."""
    import os

    from evidence import timestamps, timeutil

    urls = timestamps.configured_tsas(tsas)
    if not urls:
        return
    ca = os.environ.get("EVIDENCE_TSA_CA")
    try:
        anchors = timestamps.load_anchors(Path(ca).read_bytes()) if ca else []
        entry, report = timestamps.timestamp_log(log, urls, anchors)
    except (timestamps.TimestampFailed, OSError) as exc:
        click.echo(
            f"warning: the import is complete, but no timestamp was taken: {clean(exc)}. "
            "Run `evidence timestamp` later.",
            err=True,
        )
        return
    context.remember_head(log.head())
    when = timeutil.format_local(report.gen_time, log.zone) if report.gen_time else "?"
    click.echo(
        f"Timestamped: the first {entry.fields['head_size']} entries existed no later than "
        f"{when} (TSA {clean(entry.fields['tsa'])}); recorded as entry #{entry.seq}."
    )


def _print_summary(summary: Any) -> None:
    verb = "would be added" if summary.dry_run else "new"
    echo = click.echo
    echo(("Dry run, nothing written. " if summary.dry_run else "")
         + f"{summary.records:,} records read from {len(summary.files)} file(s).")  # fmt: skip
    echo(f"  {summary.new:,} {verb}")
    if summary.attached:
        echo(f"  {summary.attached:,} recordings attached to calls already in the log")
    echo(f"  {summary.duplicates:,} already in the log")
    if summary.repeated:
        echo(f"  {summary.repeated:,} repeated within this import (the same record again: "
             "kept once)")  # fmt: skip
    echo(f"  {summary.filtered:,} skipped by the filters")
    echo(f"  {summary.rejected:,} rejected")
    if summary.selection.startswith("no filter"):
        echo("No filter was given: everything that could be read was imported.")
    else:
        echo(clean(summary.selection.capitalize()))
        if summary.senders:
            echo(f"  kept, calls of a number that sent a text holding a keyword: "
                 f"{summary.senders:,}")  # fmt: skip
        for reason, count in summary.filtered_by.most_common():
            echo(f"  skipped, {reason}: {count:,}")
    for report in summary.files:
        original = ", original kept" if report.original_kept else ""
        echo(f"- {clean(report.name, one_line=True)} [{report.format}]: {report.records:,} read, "
             f"{report.new:,} {verb}, {report.duplicates:,} already, "
             + (f"{report.repeated:,} repeated, " if report.repeated else "")
             + f"{report.filtered:,} skipped, {report.rejected:,} rejected{original}")  # fmt: skip
        if report.sha256:
            echo(f"  sha256 {report.sha256}")
    for note in summary.notes:
        echo(f"note: {clean(note, one_line=True)}")
    if summary.by_number:
        echo("By number (records selected):")
        for number, count in summary.by_number.most_common(SHOWN):
            echo(f"  {clean(number, one_line=True):<20} {count:,}")
        if len(summary.by_number) > SHOWN:
            echo(f"  … and {len(summary.by_number) - SHOWN:,} more numbers")
    if summary.by_platform:
        echo("By platform:")
        for platform, count in summary.by_platform.most_common(SHOWN):
            echo(f"  {clean(platform, one_line=True):<20} {count:,}")
    if summary.rejections:
        echo("Rejected:")
        for name, position, reason in summary.rejections[:100]:
            echo(f"  {clean(name, one_line=True)} {clean(position, one_line=True)}: "
                 f"{clean(reason, one_line=True)}")  # fmt: skip
        hidden = summary.rejected - min(len(summary.rejections), 100)
        if hidden:
            echo(f"  … and {hidden:,} more")
