"""Creating a log and managing the secrets that open it: init, passwd, recover."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cli import context
from cli.context import store_options


def _print_recovery_code(code: str) -> None:
    click.echo("")
    click.echo(
        "Recovery code (write it on paper and keep it somewhere safe; it is shown only once):"
    )
    click.echo(f"    {code}")
    click.echo("With it, `evidence recover` sets a new passphrase if you forget yours.")


@click.command()
@store_options
@click.option("--zone", default="Asia/Shanghai", show_default=True, help="Your time zone.")
@click.option(
    "--kdf-memory",
    type=click.IntRange(8, 4096),
    default=64,
    show_default=True,
    help="MiB of memory the passphrase hashing uses; more is slower to guess.",
)
def init(
    store_path: Path | None,
    database_url: str | None,
    log_id: str | None,
    zone: str,
    kdf_memory: int,
) -> None:
    """Create a new encrypted evidence log.

    Asks for a passphrase twice (or reads EVIDENCE_PASSPHRASE), prints the
    log's signing-key fingerprint and a recovery code to write down.
    """
    from evidence import crypto, timeutil
    from evidence.errors import Conflict

    timeutil.zone(zone)
    where = context.location(store_path, database_url, log_id)
    store = context.open_store(where, create=True)
    if store.log_ids() and not log_id:
        raise Conflict(
            f"there is already an evidence log at {where.describe()}"
            " (a shared database may hold several: give the new one an id with --log)"
        )
    secret = context.passphrase("Choose a passphrase", confirm=True)
    log, code = store.create_log(
        secret, zone=zone, kdf=crypto.KdfParams.fresh(memory_kib=kdf_memory * 1024), log_id=log_id
    )
    context.remember_head(log.head())
    click.echo(f"Created an encrypted evidence log in {where.describe()}")
    click.echo(f"  log id:     {log.log_id}")
    click.echo(f"  time zone:  {zone}")
    click.echo(f"  signing-key fingerprint: {log.info.fingerprint}")
    _print_recovery_code(code)


@click.command()
@store_options
def passwd(store_path: Path | None, database_url: str | None, log_id: str | None) -> None:
    """Change the passphrase (the evidence is not re-encrypted).

    Reads the current passphrase from EVIDENCE_PASSPHRASE and the new one
    from EVIDENCE_NEW_PASSPHRASE when set; otherwise asks.
    """
    log = context.unlock(context.location(store_path, database_url, log_id))
    new = context.passphrase("New passphrase", confirm=True, env="EVIDENCE_NEW_PASSPHRASE")
    log.change_passphrase(new)
    click.echo("Passphrase changed. The old passphrase no longer opens this log.")


@click.command()
@store_options
def recover(store_path: Path | None, database_url: str | None, log_id: str | None) -> None:
    """Set a new passphrase using the recovery code written down at `init`.

    The code is read from EVIDENCE_RECOVERY_CODE or asked for without echo.
    The used code is replaced by a new one, printed once.
    """
    where = context.location(store_path, database_url, log_id)
    store = context.open_store(where)
    chosen = context.pick_log(store, where)
    code = os.environ.get("EVIDENCE_RECOVERY_CODE") or click.prompt(
        "Recovery code", hide_input=True
    )
    log = store.unlock_with_recovery_code(chosen, code)
    new = context.passphrase("New passphrase", confirm=True, env="EVIDENCE_NEW_PASSPHRASE")
    log.change_passphrase(new)
    fresh = log.replace_recovery_code()
    click.echo("New passphrase set. The old passphrase and the old recovery code no longer work.")
    _print_recovery_code(fresh)
