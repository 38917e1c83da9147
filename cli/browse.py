"""Reading the log: list, show, attachment."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from cli import context
from cli.context import store_options
from cli.render import clean, table, to_json

KINDS = [
    "call",
    "sms",
    "message",
    "contact",
    "visit",
    "letter",
    "other",
    "fact",
    "amend",
    "retract",
    "timestamp",
]


def _party(entry: Any) -> str:
    fields = entry.fields
    if "number" in fields:
        number = fields["number"]
        return number.get("e164") or number.get("raw") or number["class"]
    return fields.get("contact_name") or fields.get("sender") or fields.get("location") or ""


def _summary(entry: Any) -> str:
    fields = entry.fields
    if entry.kind == "amend":
        names = [*sorted(fields.get("changes", {})), *(f"-{n}" for n in fields.get("cleared", ()))]
        changed = ", ".join(names) or "attachments"
        return f"corrects #{fields['target']}: {changed}" + (
            f" ({fields['reason']})" if fields.get("reason") else ""
        )
    if entry.kind == "retract":
        return f"withdraws #{fields['target']}: {fields['reason']}"
    if entry.kind == "timestamp":
        return f"RFC 3161 token over head of size {fields['head_size']} from {fields['tsa']}"
    if entry.kind == "fact":
        detail = [str(fields.get(k)) for k in ("window", "zone", "contact_name") if fields.get(k)]
        return " ".join([fields["fact"], *detail, fields.get("said") or fields.get("note") or ""])
    return fields.get("said") or fields.get("note") or ""


def _marks(entry: Any) -> str:
    marks = []
    if entry.retracted_by is not None:
        marks.append(f"retracted by #{entry.retracted_by}")
    if entry.amended_by:
        marks.append("amended by " + ", ".join(f"#{s}" for s in entry.amended_by))
    if entry.attachments:
        marks.append(f"📎{len(entry.attachments)}")
    return "; ".join(marks)


def entry_json(entry: Any) -> dict[str, Any]:
    document = entry.document()
    document["commitment"] = entry.commitment.hex()
    document["amended_by"] = list(entry.amended_by)
    document["retracted_by"] = entry.retracted_by
    return document


@click.command(name="list")
@store_options
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only this kind.")
@click.option("--platform", help="Only entries about this platform.")
@click.option("--number", help="Only entries with this phone number (any format).")
@click.option("--since", help="From this date or time (local), e.g. 2026-11-01.")
@click.option("--until", help="Up to the end of this date (local).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def list_entries(
    store_path: Path | None,
    database_url: str | None,
    log_id: str | None,
    kinds: tuple[str, ...],
    platform: str | None,
    number: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """List entries, oldest first, with corrections marked."""
    from evidence import phone, timeutil

    log = context.unlock(context.location(store_path, database_url, log_id))
    start = timeutil.parse_day(since, log.zone) if since else None
    end = timeutil.parse_day(until, log.zone, end=True) if until else None
    selected = []
    for entry in log.entries(start, end):
        if kinds and entry.kind not in kinds:
            continue
        if platform and entry.fields.get("platform") != platform:
            continue
        if number and not (
            "number" in entry.fields and phone.matches(entry.fields["number"], number)
        ):
            continue
        selected.append(entry)
    if as_json:
        click.echo(to_json([entry_json(e) for e in selected]))
        return
    if not selected:
        click.echo("No entries match.")
        return
    rows = [
        [
            f"#{e.seq}",
            e.occurred_at.astimezone(log.zone).strftime("%Y-%m-%d %H:%M"),
            e.kind,
            clean(_party(e), one_line=True),
            clean(e.fields.get("platform", ""), one_line=True),
            clean(_summary(e), one_line=True),
            _marks(e),
        ]
        for e in selected
    ]
    click.echo(
        table(
            ["#", "when", "kind", "who", "platform", "what", "marks"], rows, {3: 18, 4: 12, 5: 40}
        )
    )
    click.echo(f"{len(selected)} entries (times in {log.info.zone}).")


def _field_lines(fields: dict[str, Any]) -> list[str]:
    lines = []
    for name in sorted(fields):
        value = fields[name]
        if name == "number" and isinstance(value, dict):
            extra = ", ".join(
                clean(value[k]) for k in ("class", "region", "carrier", "name") if value.get(k)
            )
            shown = value.get("e164") or value.get("raw")
            lines.append(f"  number:       {clean(shown)} (typed: {clean(value['raw'])}; {extra})")
        elif name == "token" and isinstance(value, str):
            lines.append(f"  {name + ':':<13} RFC 3161 token, {len(value) * 3 // 4} bytes (base64)")
        elif isinstance(value, list):
            lines.append(f"  {name + ':':<13} {clean(', '.join(map(str, value)))}")
        elif isinstance(value, dict):
            lines.append(f"  {name + ':':<13} {clean(to_json(value))}")
        else:
            lines.append(f"  {name + ':':<13} {clean(value)}")
    return lines


@click.command()
@store_options
@click.argument("seq", type=click.IntRange(0, 2**63 - 1))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def show(
    store_path: Path | None, database_url: str | None, log_id: str | None, seq: int, as_json: bool
) -> None:
    """Everything about entry SEQ: times, fields, hashes, attachments, corrections."""
    from evidence import hashing, timeutil

    log = context.unlock(context.location(store_path, database_url, log_id))
    entry = log.entry(seq)
    head = log.first_head_covering(seq)
    if as_json:
        document = entry_json(entry)
        document["leaf_hash"] = hashing.leaf(entry.commitment).hex()
        document["first_signed_head"] = head.to_dict() if head else None
        document["earliest_timestamp"] = _cover_json(log, seq)
        click.echo(to_json(document))
        return
    zone = log.zone
    click.echo(f"Entry #{entry.seq}: {entry.kind}")
    status = _marks(entry)
    if status:
        click.echo(f"  status:       {status}")
    click.echo(f"  occurred:     {timeutil.format_local(entry.occurred_at, zone)} (as stated)")
    click.echo(f"  recorded:     {timeutil.format_local(entry.recorded_at, zone)} (store clock)")
    for line in _field_lines(entry.fields):
        click.echo(line)
    if entry.source:
        click.echo(f"  source:       {clean(to_json(entry.source))}")
    for attachment in entry.attachments:
        click.echo(
            f"  attachment:   {clean(attachment.name)} ({attachment.media_type}, "
            f"{attachment.size} bytes)\n                sha256 {attachment.sha256}"
        )
    click.echo(f"  commitment:   {entry.commitment.hex()}")
    click.echo(f"  leaf hash:    {hashing.leaf(entry.commitment).hex()}")
    if head:
        click.echo(f"  first signed in head of size {head.size} at {head.signed_at}")
    click.echo(_cover_line(log, seq))
    for other in log.corrections(entry):
        when = timeutil.format_local(other.recorded_at, zone)
        click.echo(f"  {other.kind} #{other.seq} recorded {when}:")
        if other.fields.get("reason"):
            click.echo(f"      reason: {clean(other.fields['reason'])}")
        for line in _field_lines(other.fields.get("changes", {})):
            click.echo("    " + line.replace(":", " →", 1))
        for name in other.fields.get("cleared", ()):
            click.echo(f"      {clean(name)} → (removed)")
        for added in other.attachments:
            click.echo(f"      adds attachment {clean(added.name)} sha256 {added.sha256}")


def _cover(log: Any, seq: int) -> Any:
    """The earliest checked RFC 3161 timestamp whose head covers entry ``seq``, if any."""
    from evidence import timestamps

    stamps, _problems = timestamps.stamps(log.heads(), log.entries())
    return timestamps.earliest_cover(stamps, seq)


def _cover_line(log: Any, seq: int) -> str:
    from evidence import timeutil

    cover = _cover(log, seq)
    if cover is None:
        return "  timestamp:    none covers it yet (run `evidence timestamp`)"
    when = timeutil.format_local(cover.gen_time, log.zone)
    return f"  timestamp:    existed no later than {when} (TSA {clean(cover.tsa)}, #{cover.seq})"


def _cover_json(log: Any, seq: int) -> dict[str, Any] | None:
    from evidence import timeutil

    cover = _cover(log, seq)
    if cover is None:
        return None
    return {
        "gen_time": timeutil.format_canonical(cover.gen_time),
        "tsa": cover.tsa,
        "entry": cover.seq,
        "head_size": cover.head_size,
    }


@click.command()
@store_options
@click.argument("sha256")
@click.option("--out", "out", required=True, help="File to write, or - for standard output.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def attachment(
    store_path: Path | None,
    database_url: str | None,
    log_id: str | None,
    sha256: str,
    out: str,
    force: bool,
) -> None:
    """Decrypt the attachment SHA256 (or a unique prefix of 8+ digits) to a file."""
    from evidence.errors import Conflict

    log = context.unlock(context.location(store_path, database_url, log_id))
    found = log.find_attachment(sha256)
    chunks = log.read_attachment(found.sha256)
    if out == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    target = Path(out)
    if target.exists() and not force:
        raise Conflict(f"{target} exists: choose another --out or add --force")
    handle, temp = tempfile.mkstemp(
        dir=target.parent if str(target.parent) else ".", prefix=".evidence-"
    )
    try:
        with os.fdopen(handle, "wb") as sink:
            for chunk in chunks:
                sink.write(chunk)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    click.echo(f"Wrote {clean(found.name)} ({found.size} bytes, sha256 {found.sha256}) to {target}")
