"""The bundle for complaints and courts: `evidence bundle` writes it, `evidence verify` checks it.

`verify` needs no store, no passphrase and no network: a lawyer runs it on the ZIP.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli import context
from cli.context import store_options
from cli.exit_codes import ExitCode
from cli.render import clean

if TYPE_CHECKING:
    from evidence.bundle.pades import PdfSigning


@click.command()
@store_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The ZIP to write, e.g. case.zip.",
)
@click.option(
    "--platform", "platforms", multiple=True, help="Only entries about this platform (repeatable)."
)
@click.option("--since", help="From this date or time (local), e.g. 2026-11-01.")
@click.option("--until", help="Up to the end of this date (local).")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the PDF.",
)
@click.option("--title", default="", help="Case title printed on every page.")
@click.option("--borrower", default="", help="The borrower's name for the cover.")
@click.option(
    "--purpose",
    type=click.Choice(["complaint", "civil", "criminal"]),
    default="complaint",
    show_default=True,
    help="What the bundle is for.",
)
@click.option(
    "--jurisdiction",
    type=click.Choice(["cn", "us", "uk"]),
    default=None,
    help="Whose collection-conduct rules the PDF's findings section applies (default cn); "
    "given, the --with-complaint draft applies them too (else the recipient's own).",
)
@click.option(
    "--with-complaint",
    "complaint",
    type=click.Choice(["12378", "nifa", "12321", "police", "court", "cfpb"]),
    help="Add a DRAFT complaint letter to this recipient as complaint.txt in the ZIP.",
)
@click.option(
    "--tsa",
    "tsas",
    multiple=True,
    metavar="URL",
    help="TSA for the PDF's document timestamp (repeatable, tried in order); "
    "default: $EVIDENCE_TSA. None reachable: the PDF is still signed.",
)
@click.option(
    "--tsa-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="EVIDENCE_TSA_CA",
    help="PEM root certificate(s) the TSA certificate must chain to.",
)
@click.option(
    "--sign-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sign the PDF with this certificate (PEM, chain allowed) instead of the log's "
    "self-signed one; needs --sign-key.",
)
@click.option(
    "--sign-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The private key of --sign-cert (PEM or DER). If it is encrypted, its passphrase "
    "is read from $EVIDENCE_SIGN_KEY_PASSPHRASE or asked for.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def bundle(
    store_path: Path | None,
    database_url: str | None,
    log_id: str | None,
    out: Path,
    platforms: tuple[str, ...],
    since: str | None,
    until: str | None,
    lang: str,
    title: str,
    borrower: str,
    purpose: str,
    jurisdiction: str | None,
    complaint: str | None,
    tsas: tuple[str, ...],
    tsa_ca: Path | None,
    sign_cert: Path | None,
    sign_key: Path | None,
    force: bool,
) -> None:
    """Write the evidence bundle: a dated PDF, the entries with proofs, files and a manifest.

    The PDF is signed (PAdES) when pyHanko is installed: with the log's self-signed
    certificate, or with --sign-cert/--sign-key; and timestamped by a TSA (--tsa or
    $EVIDENCE_TSA) when one answers.
    """
    from evidence import timeutil
    from evidence.bundle import Options, build_bundle
    from evidence.errors import Conflict

    if out.exists() and not force:
        raise Conflict(f"{out} exists: choose another --out or add --force")
    signing = _pdf_signing(tsas, tsa_ca, sign_cert, sign_key)
    log = context.unlock(context.location(store_path, database_url, log_id))
    options = Options(
        platforms=platforms,
        since=timeutil.parse_day(since, log.zone) if since else None,
        until=timeutil.parse_day(until, log.zone, end=True) if until else None,
        lang=lang,
        title=title,
        borrower=borrower,
        purpose=purpose,
        jurisdiction=jurisdiction or "cn",
        complaint=complaint,
        complaint_jurisdiction=jurisdiction,
        pdf_signing=signing,
    )
    result = build_bundle(log, out, options)
    click.echo(
        f"Wrote {out}: {result.entries} entries ({result.events} events), "
        f"{result.attachments} attachments, a PDF of {result.pages} pages, "
        f"{result.bytes} bytes; signed head of size {result.head_size}."
    )
    _pdf_lines(signing)
    click.echo(f"Check it anywhere with: evidence verify {out}")


def _pdf_signing(
    tsas: tuple[str, ...], tsa_ca: Path | None, sign_cert: Path | None, sign_key: Path | None
) -> PdfSigning:
    """How to sign the PDF: the TSAs for its document timestamp, and whose certificate."""
    from evidence import timestamps
    from evidence.bundle import pades

    if (sign_cert is None) != (sign_key is None):
        raise click.UsageError("--sign-cert and --sign-key go together")
    signer = None
    if sign_cert is not None and sign_key is not None:
        if not pades.available():
            raise click.UsageError("--sign-cert needs pyHanko: pip install 'evidence[pades]'")
        key_data = sign_key.read_bytes()
        secret = None
        if pades.key_is_encrypted(key_data):
            secret = pades.env_passphrase() or click.prompt(
                "Passphrase of the signing key", hide_input=True, err=True
            )
        signer = pades.load_user_signer(sign_cert.read_bytes(), key_data, secret)
    anchors = timestamps.load_anchors(tsa_ca.read_bytes()) if tsa_ca else []
    urls = timestamps.configured_tsas(tsas)  # refuses a URL that is not http(s) now
    return pades.PdfSigning(tsas=urls, tsa_anchors=anchors, signer=signer)


def _pdf_lines(signing: PdfSigning) -> None:
    """What the PDF's signature and document timestamp are, and why one is missing."""
    from evidence import timeutil

    if signing.signed_at is None:
        click.echo("note: the PDF is not signed (pyHanko is not installed)", err=True)
        return
    click.echo(
        f"PDF signed (PAdES) by {clean(signing.signer_subject)} "
        f"at {timeutil.format_canonical(signing.signed_at)}."
    )
    if signing.timestamp_time is not None:
        click.echo(
            "PDF document timestamp (RFC 3161) at "
            f"{timeutil.format_canonical(signing.timestamp_time)} "
            f"from {clean(signing.timestamp_tsa)}."
        )
    for note in signing.notes:
        click.echo(f"note: {clean(note)}", err=True)


@click.command()
@click.argument("bundle_zip", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--against",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Another bundle of the same log: check that one head extends the other.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="en",
    show_default=True,
    help="Language of the verdict.",
)
@click.option(
    "--tsa-root",
    "tsa_roots",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM trust anchor(s) for the TSA certificates of the timestamps and of the PDF's "
    "document timestamp (repeatable). Without it, their chains are reported as not "
    "checked against a trust anchor.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def verify(
    bundle_zip: Path,
    against: Path | None,
    lang: str,
    tsa_roots: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Check a bundle ZIP alone (no store, no passphrase): exit 0 only if everything holds."""
    from evidence.timestamps import load_anchors
    from evidence.verifier import verify_bundle
    from evidence.verifier.messages import VERDICT, title

    anchors = [cert for path in tsa_roots for cert in load_anchors(path.read_bytes())]
    report = verify_bundle(bundle_zip, against, anchors)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
    else:
        words = VERDICT[lang]
        for one in [report, *([report.against] if report.against else [])]:
            click.echo(f"{clean(one.path)}")
            if one.head:
                click.echo(f"  {words['log']}: {clean(one.log_id)}")
                click.echo(
                    f"  {words['head']}: {words['size']} {one.head['size']}, "
                    f"root {clean(one.head['root'])}, {words['time']} "
                    f"{clean(one.head['signed_at'])}"
                )
            if one.public_key:
                click.echo(f"  {words['fingerprint']}: {one.fingerprint()}")
            click.echo(
                f"  {words['entries']}: {one.entries}; {words['attachments']}: "
                f"{one.attachments}; {words['files']}: {one.files}"
            )
            _pdf_signature_lines(one, lang)
            _timestamp_lines(one, lang)
            for problem in one.problems:
                click.echo(f"  ✘ {title(problem.code, lang)} [{problem.code}]")
                click.echo(f"      {words['where']}: {clean(problem.where, one_line=True)}")
                click.echo(f"      {clean(problem.detail, one_line=True)}")
        problems = len(report.problems) + (len(report.against.problems) if report.against else 0)
        click.echo(words["ok"] if report.ok else words["fail"].format(n=problems))
    sys.exit(int(ExitCode.OK if report.ok else ExitCode.INTEGRITY))


def _pdf_signature_lines(report: object, lang: str) -> None:
    """The PDF's PAdES signature and document timestamps, as checked."""
    pdf = report.pdf  # type: ignore[attr-defined]
    if not pdf:
        return
    zh = lang == "zh"
    signer, kind = clean(pdf["signer"], one_line=True), pdf["certificate"]
    when = pdf.get("signing_time") or "?"
    if zh:
        kinds = {"self-signed, per log": "日志自签名证书", "user-supplied": "用户提供的证书"}
        click.echo(f"  PDF 签名（PAdES）：{signer}（{kinds.get(kind, kind)}），签名时间 {when}")
    else:
        click.echo(f"  PDF signature (PAdES): {signer} ({kind}), signed at {when}")
    for stamp in pdf["document_timestamps"]:
        tsa = clean(stamp["tsa"], one_line=True)
        if zh:
            click.echo(f"  PDF 文档时间戳：{stamp['gen_time']}（TSA {tsa}）")
        else:
            click.echo(f"  PDF document timestamp: {stamp['gen_time']} ({tsa})")


def _timestamp_lines(report: object, lang: str) -> None:
    """RFC 3161 timestamps: each checked token, entries none covers, what was not checked."""
    zh = lang == "zh"
    for stamp in report.timestamps:
        when = stamp.get("gen_time") or ("未核对" if zh else "not checked")
        size, tsa = stamp["head_size"], clean(stamp["tsa"], one_line=True)
        if zh:
            click.echo(f"  时间戳：前 {size} 条记录不晚于 {when} 已存在（TSA {tsa}）")
        else:
            click.echo(f"  timestamp: the first {size} entries existed by {when} ({tsa})")
    uncovered = report.uncovered
    if uncovered:
        shown = ", ".join(f"#{s}" for s in uncovered[:20])
        more = " …" if len(uncovered) > 20 else ""
        click.echo(
            f"  {'无时间戳覆盖的记录' if zh else 'entries no timestamp covers'}: {shown}{more}"
        )
    for note in report.unchecked:
        click.echo(f"  {'未核对' if zh else 'not checked'}: {clean(note, one_line=True)}")
