"""Looking after the log: check, backup, restore."""

from __future__ import annotations

from pathlib import Path

import click

from cli import context
from cli.context import store_options
from cli.exit_codes import ExitCode
from cli.render import clean


@click.command()
@store_options
@click.option(
    "--tsa-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="EVIDENCE_TSA_CA",
    help="PEM root certificate(s) the timestamp tokens' TSA certificates must chain to.",
)
def check(
    store_path: Path | None, database_url: str | None, log_id: str | None, tsa_ca: Path | None
) -> None:
    """Verify the whole log: every entry, the tree, every signed head, every attachment.

    Every RFC 3161 timestamp token recorded in the log is checked again (signature,
    imprint against its head, the TSA certificate chain as far as it is given).
    Exits 0 when everything holds; otherwise lists every problem, first one
    first, and exits 5.
    """
    from evidence.timestamps import load_anchors
    from evidence.verify_store import TimestampCheck, check_log

    anchors = load_anchors(tsa_ca.read_bytes()) if tsa_ca else []
    where = context.location(store_path, database_url, log_id)
    log = context.unlock(where)
    stamps = TimestampCheck()
    report = check_log(log, context.remembered_head(log.log_id), anchors, stamps)
    head = log.head()
    click.echo(
        f"Checked {report.entries} entries, {report.heads} signed heads, "
        f"{report.attachments} attachments, {stamps.tokens} timestamp tokens."
    )
    for note in stamps.unchecked:
        click.echo(f"note: not checked: {clean(note)}", err=True)
    if not report.ok:
        click.echo(f"ALTERED: {len(report.problems)} problem(s) found:", err=True)
        for problem in report.problems:
            click.echo(f"  - {clean(problem)}", err=True)
        raise click.exceptions.Exit(int(ExitCode.INTEGRITY))
    context.remember_head(head)
    click.echo("OK: the log is intact.")
    click.echo(f"Head: {head.size} entries, root {head.root.hex()}, signed {head.signed_at}")
    click.echo(f"Signing-key fingerprint: {log.info.fingerprint}")


@click.command()
@store_options
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def backup(
    store_path: Path | None, database_url: str | None, log_id: str | None, out: Path, force: bool
) -> None:
    """Write a consistent copy of the encrypted log (database and attachments) to OUT.

    Safe while the log is in use. The copy stays encrypted: no passphrase is
    needed to make it, and it is needed to restore it.
    """
    from evidence.backup import create_backup
    from evidence.errors import Conflict

    if out.exists() and not force:
        raise Conflict(f"{out} exists: choose another name or add --force")
    where = context.location(store_path, database_url, log_id)
    store = context.open_store(where)
    summary = create_backup(store, context.pick_log(store, where), out)
    click.echo(
        f"Backed up {summary.entries} entries and {summary.files} attachment files "
        f"(head size {summary.head_size}) to {out}"
    )


@click.command()
@store_options
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(
    store_path: Path | None, database_url: str | None, log_id: str | None, archive: Path
) -> None:
    """Bring back a log from a backup made by `evidence backup`.

    The backup is checked completely (with your passphrase) before anything
    is written; the store must not already hold that log.
    """
    from evidence.backup import restore_backup
    from evidence.errors import Conflict

    where = context.location(store_path, database_url, log_id)
    store = context.open_store(where, create=True)
    if store.log_ids() and not database_url:
        raise Conflict(
            f"there is already an evidence log at {where.path}: restore into another --store"
        )
    secret = context.passphrase()
    restored, report = restore_backup(archive, store, secret)
    head = store.unlock(restored, secret).head()
    seen = context.remembered_head(restored)
    if seen is not None and seen.size > head.size:
        click.echo(
            f"warning: this machine had seen {seen.size} entries of this log; the backup holds "
            f"{head.size}. Entries recorded after the backup are not in it.",
            err=True,
        )
    context.remember_head(head)
    click.echo(
        f"Restored log {restored}: {report.entries} entries and {report.attachments} attachments "
        "checked, all intact."
    )
