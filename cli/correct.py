"""Corrections: amend and retract append new entries; the original is never touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli import context
from cli.context import store_options
from cli.record import ATTACH, FACT_NAMES

FIELD_OPTIONS = [
    click.option("--platform"),
    click.option("--collector"),
    click.option("--said", "--body", "said"),
    click.option("--note"),
    click.option("--tag", "tags", multiple=True),
    click.option("--number"),
    click.option("--direction", type=click.Choice(["incoming", "outgoing"])),
    click.option("--duration", type=click.IntRange(0, 10_000_000)),
    click.option("--answered/--not-answered", default=None),
    click.option("--channel"),
    click.option("--sender"),
    click.option("--who", "contact_name"),
    click.option("--relation"),
    click.option("--location"),
    click.option("--people"),
    # A fact's own fields (the model checks that the amended fact stays complete).
    click.option("--fact", type=click.Choice(FACT_NAMES), help="fact entries: which fact it is."),
    click.option("--window", help="agreed_time: the agreed daily hours, e.g. 20:00-21:00."),
    click.option("--zone", help="debtor_zone: the time zone, e.g. America/New_York."),
    click.option("--written/--not-written", default=None, help="cease_request: in writing?"),
]


# --clear takes a field by its option's name too (--who is contact_name, --tag tags).
CLEAR_NAMES = {"who": "contact_name", "tag": "tags", "body": "said"}


def _with_field_options(function: Any) -> Any:
    for option in reversed(FIELD_OPTIONS):
        function = option(function)
    return function


@click.command()
@store_options
@click.argument("seq", type=click.IntRange(0, 2**63 - 1))
@click.option("--reason", default="", help="Why the correction is made.")
@click.option("--at", "at", help="The corrected time of the event.")
@click.option(
    "--clear",
    "cleared",
    multiple=True,
    metavar="FIELD",
    help="A field the entry should not have (e.g. --clear platform); repeatable.",
)
@_with_field_options
@ATTACH
def amend(
    store_path: Path | None,
    database_url: str | None,
    log_id: str | None,
    seq: int,
    reason: str,
    at: str | None,
    cleared: tuple[str, ...],
    attachments: tuple[Path, ...],
    **changes: Any,
) -> None:
    """Correct entry SEQ by appending an amendment (field options as for `log`).

    The original entry stays as it was; `list` and `show` mark it as amended.
    `--clear` removes a field from the entry as amended (a wrong platform, a note
    about someone else); the original still shows it.
    """
    from evidence import timeutil

    log = context.unlock(context.location(store_path, database_url, log_id))
    changes["tags"] = list(changes.get("tags") or [])
    new_time = timeutil.parse_instant(at, log.zone) if at else None
    stored = []
    for path in attachments:
        with path.open("rb") as handle:
            stored.append(log.add_attachment(handle, path.name))
    bare = [name.strip().lstrip("-") for name in cleared]
    names = [CLEAR_NAMES.get(name, name) for name in bare]
    entry = log.amend(seq, changes, reason, new_time, tuple(stored), names)
    context.remember_head(log.head())
    click.echo(f"Recorded amendment #{entry.seq} of entry #{seq}.")


@click.command()
@store_options
@click.argument("seq", type=click.IntRange(0, 2**63 - 1))
@click.option("--reason", required=True, help="Why the entry is withdrawn.")
def retract(
    store_path: Path | None, database_url: str | None, log_id: str | None, seq: int, reason: str
) -> None:
    """Withdraw entry SEQ by appending a retraction; it stays visible as retracted."""
    log = context.unlock(context.location(store_path, database_url, log_id))
    entry = log.retract(seq, reason)
    context.remember_head(log.head())
    click.echo(f"Recorded retraction #{entry.seq} of entry #{seq}.")
