"""`evidence timestamp`: a trusted RFC 3161 timestamp over the current signed head."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli import context
from cli.context import store_options
from cli.render import clean

if TYPE_CHECKING:
    from evidence.ledger import Log


@click.command()
@store_options
@click.option(
    "--tsa",
    "tsas",
    multiple=True,
    metavar="URL",
    help="Time-stamping authority (repeatable, tried in order); default: $EVIDENCE_TSA.",
)
@click.option(
    "--tsa-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="EVIDENCE_TSA_CA",
    help="PEM root certificate(s) the TSA certificate must chain to.",
)
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Instead of timestamping: write every recorded token (N.tsr) with the head text "
    "it covers (N.head.txt) to this new folder, for `openssl ts -verify`.",
)
def timestamp(
    store_path: Path | None,
    database_url: str | None,
    log_id: str | None,
    tsas: tuple[str, ...],
    tsa_ca: Path | None,
    export_dir: Path | None,
) -> None:
    """Ask a time-stamping authority (RFC 3161) to timestamp the log's current signed head.

    The token proves that every entry recorded so far existed no later than the
    TSA's time; it is checked, then kept in the log as a `timestamp` entry. Only
    the SHA-256 of the head text is sent. Nothing changes when no TSA gives a
    token that checks (exit 1). Public TSAs: docs/FORMAT.md §15.

    With --export DIR, no TSA is asked: the tokens already recorded are written out
    so that anyone can check them with OpenSSL (DIR/README.txt says how).
    """
    from evidence import timestamps, timeutil

    if export_dir is not None:
        _export(context.unlock(context.location(store_path, database_url, log_id)), export_dir)
        return

    urls = timestamps.configured_tsas(tsas)
    if not urls:
        raise timestamps.TimestampFailed(
            "no TSA configured: give --tsa URL or set EVIDENCE_TSA "
            "(docs/FORMAT.md §15 lists public ones); nothing was changed"
        )
    anchors = timestamps.load_anchors(tsa_ca.read_bytes()) if tsa_ca else []
    log = context.unlock(context.location(store_path, database_url, log_id))
    entry, report = timestamps.timestamp_log(log, urls, anchors)
    assert report.gen_time is not None
    when = timeutil.format_local(report.gen_time, log.zone)
    click.echo(
        f"Timestamped the head of size {entry.fields['head_size']}: the first "
        f"{entry.fields['head_size']} entries existed no later than {when} "
        f"(TSA {clean(entry.fields['tsa'])}, {clean(report.tsa)})."
    )
    click.echo(f"Recorded as entry #{entry.seq}.")
    for line in report.unchecked:
        click.echo(f"note: not checked: {clean(line)}", err=True)


def _export(log: Log, folder: Path) -> None:
    from cli.exit_codes import ExitCode
    from evidence import timestamps

    done = timestamps.export_tokens(log, folder)
    click.echo(
        f"Wrote {len(done.stamps)} timestamp token(s) with their head texts to {folder}; "
        f"check each with: openssl ts -verify -token_in -in N.tsr -data N.head.txt "
        f"-CAfile tsa-root.pem (see {folder / 'README.txt'})."
    )
    for problem in done.problems:
        click.echo(f"left out: {clean(problem)}", err=True)
    if done.problems:
        click.echo("Some recorded timestamps do not check: run `evidence check`.", err=True)
        raise click.exceptions.Exit(int(ExitCode.INTEGRITY))
