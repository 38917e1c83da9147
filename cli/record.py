"""`evidence log KIND …`: record one event, with attachments, in one append."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cli import context
from cli.context import store_options
from cli.render import clean

ATTACH = click.option(
    "--attach",
    "attachments",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="A file to keep with the entry (recording, screenshot…). Repeatable.",
)


def common_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options every kind of event has."""
    for option in reversed(
        [
            click.option(
                "--at", "at", help="When it happened (default now), e.g. '2026-11-20 23:15'."
            ),
            click.option("--platform", help="The lender or platform, e.g. 京东金条."),
            click.option(
                "--collector", help="Who the collector claimed to be (name, staff number)."
            ),
            click.option("--said", "--body", "said", help="What was said or written, verbatim."),
            click.option("--tag", "tags", multiple=True, help="A label, e.g. threat. Repeatable."),
            click.option("--note", help="Your own remark."),
            ATTACH,
            store_options,
        ]
    ):
        function = option(function)
    return function


NUMBER = click.option("--number", help="The phone number, as shown.")
DIRECTION = click.option(
    "--direction",
    type=click.Choice(["incoming", "outgoing"]),
    help="incoming (default for calls and SMS) or outgoing.",
)

# evidence.model.FACTS, written out so that `evidence --help` needs no core import.
FACT_NAMES = ["agreed_time", "contact_refused", "cease_request", "conversation", "debtor_zone"]

KIND_OPTIONS: dict[str, list[Callable[..., Any]]] = {
    "call": [
        click.option("--number", required=True, help="The calling number, as shown."),
        DIRECTION,
        click.option("--duration", type=click.IntRange(0, 10_000_000), help="Length in seconds."),
        click.option("--answered/--not-answered", default=None, help="Whether you picked up."),
    ],
    "sms": [click.option("--number", required=True, help="The sending number."), DIRECTION],
    "message": [
        click.option("--channel", help="wechat, qq, the lender's app…"),
        click.option("--sender", required=True, help="The sender's account or name."),
        NUMBER,
    ],
    "contact": [
        click.option("--who", "contact_name", required=True, help="Who was contacted."),
        click.option("--relation", help="mother, employer, colleague, village committee…"),
        click.option("--channel", help="call, sms, wechat…"),
        click.option("--number", help="The number that contacted them."),
    ],
    "visit": [
        click.option("--location", help="Where (home, workplace…)."),
        click.option("--people", help="Who came."),
    ],
    "letter": [
        click.option("--sender", help="Who sent it (law firm, 'court'…)."),
        click.option("--channel", help="post, email, courier, posted on a door…"),
    ],
    "other": [],
    "fact": [
        click.option(
            "--fact",
            required=True,
            type=click.Choice(FACT_NAMES),
            help="What you are recording (see `evidence analyze`).",
        ),
        click.option("--window", help="agreed_time: the agreed daily hours, e.g. 20:00-21:00."),
        click.option("--zone", help="debtor_zone: your time zone, e.g. America/New_York."),
        click.option("--who", "contact_name", help="contact_refused: the contact who refused."),
        click.option("--number", help="contact_refused: the contact's number."),
        click.option("--written/--not-written", default=None, help="cease_request: in writing?"),
    ],
}

HELP = {
    "call": "Record a collection call.",
    "sms": "Record an SMS (use --said for its text).",
    "message": "Record a WeChat/QQ/app message (the sender's account in --sender).",
    "contact": "Record that a third party (family, employer…) was contacted about your debt.",
    "visit": "Record a visit to your home or workplace.",
    "letter": "Record a letter, 'lawyer's letter' or notice.",
    "other": "Record anything else (describe it with --said).",
    "fact": "Record a fact the conduct rules use: a contact time you agreed "
    "(--window 20:00-21:00), a contact's refusal (--who), a cease request, a "
    "conversation with a collector, or your time zone (--zone).",
}


@click.group()
def log() -> None:
    """Record an event: call, sms, message, contact, visit, letter, other, fact."""


def _make_command(kind: str) -> click.Command:
    def command(**options: Any) -> None:
        _record(kind, options)

    command.__doc__ = (
        HELP[kind] + "\n\nThe time defaults to now; a time without a zone is in the log's zone."
    )
    for option in reversed(KIND_OPTIONS[kind]):
        command = option(command)
    return click.command(name=kind)(common_options(command))


def _record(kind: str, options: dict[str, Any]) -> None:
    from evidence import model, phone, timeutil

    where = context.location(
        options.pop("store_path"), options.pop("database_url"), options.pop("log_id")
    )
    paths: tuple[Path, ...] = options.pop("attachments")
    at = options.pop("at")
    options["tags"] = list(options.get("tags") or [])
    log = context.unlock(where)
    occurred = (
        timeutil.parse_instant(at, log.zone) if at else timeutil.utc_now().astimezone(log.zone)
    )
    model.validate_fields(kind, options)  # fail before storing any attachment
    attachments = tuple(_store_attachment(log, path) for path in paths)
    entry = log.append([model.make_draft(kind, occurred, options, attachments)])[0]
    head = log.head()
    context.remember_head(head)
    click.echo(
        f"Recorded entry #{entry.seq}: {kind}, "
        f"{timeutil.format_local(entry.occurred_at, log.zone)}"
        + (f", {len(attachments)} attachment(s)" if attachments else "")
    )
    number = entry.fields.get("number")
    if number and number["class"] == phone.UNKNOWN:
        click.echo(
            f"note: {clean(number['raw'])} is not a number we recognise; "
            "it is kept exactly as typed.",
            err=True,
        )
    click.echo(f"Log head: {head.size} entries, root {head.root.hex()[:16]}…")


def _store_attachment(log: Any, path: Path) -> Any:
    with path.open("rb") as handle:
        return log.add_attachment(handle, path.name)


for _kind in KIND_OPTIONS:
    log.add_command(_make_command(_kind))
