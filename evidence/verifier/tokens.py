"""RFC 3161 timestamps in a bundle: each token, its head, and its consistency with the bundle.

``timestamps.jsonl`` has one record per token; its head text and DER token are files in
``timestamps/``. For each: the head text is the one the record names, of this log; the
consistency proof shows that head is a prefix of the bundle's head (and the prefix of
commitments.txt gives the same root); the token is checked over the head text. Token
checks need asn1crypto (``evidence.timestamps``): without it they are reported as not
checked, and everything else still is.
"""

from __future__ import annotations

from typing import Any

from evidence.verifier import layout, merkle, safezip

HEAD_PREFIX = "evidence-log-head/v1"


def head_text(log_id: str, size: int, root: str, signed_at: str) -> bytes:
    return f"{HEAD_PREFIX}\nlog {log_id}\nsize {size}\nroot {root}\ntime {signed_at}\n".encode(
        "ascii"
    )


def check(checker: Any, head: dict[str, Any], leaves: list[bytes]) -> None:
    """Check ``timestamps.jsonl``; record problems, stamps, uncovered entries and notes."""
    report = checker.report
    data = checker.texts.get(layout.TIMESTAMPS)
    if data is None:
        info = checker.members.get(layout.TIMESTAMPS)
        if info is None:
            report.unchecked.append("the bundle holds no timestamps (no timestamps.jsonl)")
            _coverage(checker, [])
            return
        data = safezip.read(checker.archive, info, layout.MAX_TEXT_BYTES)
    try:
        from evidence import timestamps as rfc3161
    except ImportError:
        rfc3161 = None
        report.unchecked.append(
            "asn1crypto is not installed: the timestamp tokens could not be checked"
        )
    lines = data.split(b"\n")
    if lines[-1] != b"":
        checker.problem("timestamp.invalid", layout.TIMESTAMPS, "does not end with a line feed")
        return
    good: list[dict[str, Any]] = []
    bundle_root = bytes.fromhex(head["root"])
    for number, line in enumerate(lines[:-1], start=1):
        where = f"{layout.TIMESTAMPS}:{number}"
        try:
            record = checker_json(line)
            size, root = record["head_size"], bytes.fromhex(record["head_root"])
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or len(root) != 32:
                raise ValueError("head_size or head_root is not valid")
            proof = [bytes.fromhex(p) for p in record["consistency"]]
            head_file, token_file = str(record["head_file"]), str(record["token_file"])
            if not head_file.startswith(layout.TIMESTAMPS_DIR) or not token_file.startswith(
                layout.TIMESTAMPS_DIR
            ):
                raise ValueError("files outside timestamps/")
            entry = record.get("entry")
            if isinstance(entry, int) and not isinstance(entry, bool) and size > entry:
                raise ValueError("a token over a head recorded after its own entry")
        except (ValueError, KeyError, TypeError) as exc:
            checker.problem("timestamp.invalid", where, str(exc))
            continue
        texts = {}
        for name in (head_file, token_file):
            info = checker.members.get(name)
            if info is None:
                checker.problem("file.missing", name, f"named by {where}")
                break
            try:
                texts[name] = safezip.read(checker.archive, info, layout.MAX_TIMESTAMP_FILE)
            except (ValueError, OSError, EOFError) as exc:
                checker.problem("file.unreadable", name, str(exc))
                break
        else:
            expected = head_text(report.log_id, size, root.hex(), str(record["head_signed_at"]))
            if texts[head_file] != expected:
                checker.problem("timestamp.head", head_file, f"not the head text of {where}")
                continue
            if size > head["size"] or not merkle.verify_consistency(
                size, head["size"], proof, root, bundle_root
            ):
                checker.problem(
                    "timestamp.consistency",
                    where,
                    f"head of size {size} is not a prefix of the bundle's head",
                )
                continue
            if merkle.root(leaves[:size]) != root:
                checker.problem("timestamp.consistency", where, "commitments.txt disagrees")
                continue
            stamp = {"entry": record.get("entry"), "tsa": record.get("tsa"), "head_size": size}
            if rfc3161 is None:
                stamp["gen_time"] = None
                good.append(stamp)
                continue
            token_report = rfc3161.check_token(
                texts[token_file], expected, anchors=getattr(checker, "tsa_roots", ())
            )
            if not token_report.ok or token_report.gen_time is None:
                checker.problem("timestamp.token", token_file, "; ".join(token_report.problems))
                continue
            stamp["gen_time"] = token_report.gen_time.isoformat().replace("+00:00", "Z")
            stamp["tsa_certificate"] = token_report.tsa
            if record.get("gen_time") != stamp["gen_time"]:
                checker.problem("timestamp.invalid", where, "gen_time differs from the token's")
                continue
            for note in token_report.unchecked:
                if note not in report.unchecked:
                    report.unchecked.append(note)
            good.append(stamp)
    report.timestamps = good
    _coverage(checker, good)


def checker_json(line: bytes) -> dict[str, Any]:
    from evidence.verifier.checks import parse_json

    value = parse_json(line)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _coverage(checker: Any, stamps: list[dict[str, Any]]) -> None:
    """Which disclosed entries no checked token covers (a note, never a failure)."""
    seqs = checker.manifest.get("selection", {}).get("seqs", []) if checker.manifest else []
    dated = [s for s in stamps if s.get("gen_time")]
    covered = {}
    for seq in seqs:
        times = [s["gen_time"] for s in dated if isinstance(seq, int) and s["head_size"] > seq]
        if times:
            covered[seq] = min(times)
    checker.report.covered = covered
    checker.report.uncovered = [s for s in seqs if s not in covered]
