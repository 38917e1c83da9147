"""Reading in a second process (``read_ahead``): the same import, errors and stops intact."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidence.errors import EvidenceError, InvalidInput
from evidence.importers import engine, readahead
from evidence.importers.base import Blob, ReadContext
from evidence.importers.engine import ImportOptions, run_import
from evidence.importers.selection import Selection, keywords_from
from tests import importfixtures as fx
from tests.conftest import PASSPHRASE, cheap_kdf

pytestmark = pytest.mark.skipif(not readahead.available(), reason="needs fork and two cores")


@pytest.fixture
def always(monkeypatch):
    """Read every file ahead, however small."""
    monkeypatch.setattr(engine, "READ_AHEAD_BYTES", 0)


def _files(tmp_path: Path) -> list[Path]:
    mms = fx.mms_element("+8613800130001", fx.BASE_MS + 5, "彩信：律师函已寄出")
    bad = '<sms protocol="0" address="13800138000" date="abc" type="1" body="bad date" />'
    sms = fx.write_sms_xml(tmp_path / "sms.xml", fx.collection_sms(700), extra=mms + bad)
    calls = fx.write_calls_xml(tmp_path / "calls.xml", fx.collection_calls(300))
    return [sms, calls]


def _snapshot(log) -> list[tuple]:
    """Every entry but the time an original file was kept (the clock's, not the file's)."""
    return [
        (e.kind, None if e.kind == "other" else e.occurred_at, e.fields, e.source,
         [a.sha256 for a in e.attachments])
        for e in log.entries()
    ]  # fmt: skip


def _summary(summary) -> tuple:
    return (summary.new, summary.duplicates, summary.repeated, summary.filtered,
            summary.rejected, summary.rejections, summary.by_number, summary.by_platform,
            summary.filtered_by, summary.notes, summary.senders)  # fmt: skip


@pytest.mark.parametrize("selecting", [False, True])
def test_same_import_as_in_one_process(store, tmp_path, always, selecting) -> None:
    paths = _files(tmp_path)
    selection = Selection()
    if selecting:
        selection = Selection(
            keywords=keywords_from(["default"]), platform_keywords={"逾期": "某贷"}
        )
    results = []
    for read_ahead in (False, True):
        log, _code = store.create_log(PASSPHRASE, kdf=cheap_kdf())
        options = ImportOptions(selection=selection, read_ahead=read_ahead, batch_size=97)
        summary = run_import(log, paths, options)
        results.append((_summary(summary), _snapshot(log)))
    (alone, entries_alone), (ahead, entries_ahead) = results
    assert alone == ahead
    assert entries_alone == entries_ahead
    assert alone[0] > 900 and alone[4] == 1  # the file was really read: records and one refusal
    assert any(a for *_, a in entries_ahead)  # the MMS image came through the pipe
    assert not multiprocessing.active_children()


def test_a_reread_through_the_child_adds_nothing(log, tmp_path, always) -> None:
    paths = _files(tmp_path)
    first = run_import(log, paths, ImportOptions(read_ahead=True))
    again = run_import(log, paths, ImportOptions(read_ahead=True))
    assert first.new > 900 and (again.new, again.duplicates) == (0, first.new)


def test_a_damaged_file_gives_the_same_report(log, tmp_path, always) -> None:
    path = tmp_path / "sms.xml"
    whole = fx.write_sms_xml(tmp_path / "whole.xml", fx.collection_sms(600)).read_text("utf-8")
    path.write_text(whole[: len(whole) // 2] + "<<< not xml", encoding="utf-8")
    reports = []
    for read_ahead in (False, True):
        summary = run_import(log, [path], ImportOptions(read_ahead=read_ahead, dry_run=True))
        reports.append((summary.new, summary.rejections, summary.notes))
    assert reports[0] == reports[1]
    assert reports[0][0] > 200 and "damaged at line" in reports[0][1][0][2]


def test_a_refused_file_fails_with_the_same_message(log, tmp_path, always) -> None:
    path = tmp_path / "sms.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE smses [<!ENTITY a "aaaa">]>'
        '<smses count="1"><sms address="1" date="1" body="&a;"/></smses>',
        encoding="utf-8",
    )
    messages = []
    for read_ahead in (False, True):
        with pytest.raises(InvalidInput) as caught:
            run_import(log, [path], ImportOptions(read_ahead=read_ahead))
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "DTD" in messages[0]
    assert log.count() == 0 and not multiprocessing.active_children()


def test_an_interrupted_import_stops_the_child(log, tmp_path, always, monkeypatch) -> None:
    paths = _files(tmp_path)
    original, calls = log.append_new, {"n": 0}

    def failing(drafts, seqs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(drafts, seqs)

    monkeypatch.setattr(log, "append_new", failing)
    with pytest.raises(KeyboardInterrupt):
        run_import(log, paths, ImportOptions(read_ahead=True, batch_size=100))
    assert log.count() == 100  # the first batch is committed, nothing after it
    assert not multiprocessing.active_children()
    monkeypatch.setattr(log, "append_new", original)
    resumed = run_import(log, paths, ImportOptions(read_ahead=True, batch_size=100))
    assert resumed.duplicates == 100 and resumed.rejected == 1
    assert resumed.new == resumed.records - 100 - 1


# --- the pipe itself --------------------------------------------------------------------------


def _numbers(ctx: ReadContext, count: int) -> Iterator[int]:
    for number in range(count):
        ctx.advance(3)
        yield number


def test_items_arrive_in_order_with_the_bytes_read() -> None:
    ctx = ReadContext(zone=None)  # type: ignore[arg-type]
    assert list(readahead.in_child(lambda: _numbers(ctx, 5000), ctx)) == list(range(5000))
    assert ctx.bytes_read == 15000


def test_a_failure_in_the_child_is_raised_here() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise InvalidInput("record 2: not a date")

    ctx = ReadContext(zone=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="record 2: not a date"):
        list(readahead.in_child(failing, ctx))


def test_an_error_that_cannot_be_pickled_keeps_its_message() -> None:
    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(f"odd {a} {b}")

    def failing() -> Iterator[int]:
        raise Odd(1, 2)
        yield 0

    with pytest.raises(RuntimeError, match="odd 1 2"):
        list(readahead.in_child(failing, ReadContext(zone=None)))  # type: ignore[arg-type]


def test_a_child_that_dies_is_reported() -> None:
    def dying() -> Iterator[int]:
        yield 1
        os._exit(3)

    with pytest.raises(EvidenceError, match=r"stopped unexpectedly.*exit code 3"):
        list(readahead.in_child(dying, ReadContext(zone=None)))  # type: ignore[arg-type]


def test_stopping_early_ends_the_child() -> None:
    items = readahead.in_child(lambda: iter(range(10**9)), ReadContext(zone=None))  # type: ignore[arg-type]
    assert next(items) == 0
    assert multiprocessing.active_children()
    items.close()
    assert not multiprocessing.active_children()


def test_the_child_reads_on_while_the_parent_appends() -> None:
    # The parent takes a batch, then appends it and reads nothing for a while. The
    # child must go on past what the pipe holds (1 MiB), and stop at a bound.
    made = multiprocessing.get_context("fork").Value("q", 0, lock=False)
    size = 4096  # a 1 MiB pipe holds about 250 of these

    def produce() -> Iterator[str]:
        while True:
            made.value += 1
            yield "x" * size  # a new text each time (pickle writes a repeated one once)

    items = readahead.in_child(produce, ReadContext(zone=None))  # type: ignore[arg-type]
    try:
        assert next(items) == "x" * size
        beyond_pipe = 4 * readahead.BATCH + readahead.PIPE_BYTES // size
        deadline = time.monotonic() + 20
        while made.value < beyond_pipe and time.monotonic() < deadline:
            time.sleep(0.02)
        assert made.value >= beyond_pipe
        time.sleep(0.3)  # ... and then it waits: memory stays bounded
        bound = (readahead.QUEUED + 3) * readahead.BATCH + readahead.PIPE_BYTES // size
        assert made.value <= bound
        assert all(next(items) == "x" * size for _ in range(beyond_pipe))
    finally:
        items.close()
    assert not multiprocessing.active_children()


def test_the_collector_leaves_earlier_objects_alone_while_a_file_is_read() -> None:
    # A full collection walked the numbering data (tens of MB of dicts) again and
    # again during an import; what existed before the fork is frozen until reading ends.
    assert gc.get_freeze_count() == 0
    for stop_early in (False, True):
        items = readahead.in_child(lambda: iter(range(2000)), ReadContext(zone=None))  # type: ignore[arg-type]
        assert next(items) == 0
        assert gc.get_freeze_count() > 1000
        if stop_early:
            items.close()
        else:
            assert list(items) == list(range(1, 2000))
        assert gc.get_freeze_count() == 0


def test_a_writer_that_fails_stops_the_child_instead_of_hanging(monkeypatch) -> None:
    from multiprocessing.connection import Connection

    written = {"count": 0}
    send_bytes = Connection.send_bytes

    def fails_second_time(self, data, *args):  # runs in the (forked) child
        written["count"] += 1
        if written["count"] > 1:
            raise ValueError("cannot write")
        return send_bytes(self, data, *args)

    monkeypatch.setattr(Connection, "send_bytes", fails_second_time)
    outcome: list[BaseException] = []

    def read_all() -> None:
        try:
            list(readahead.in_child(lambda: iter(range(10**6)), ReadContext(zone=None)))  # type: ignore[arg-type]
        except BaseException as error:  # kept for the assertion
            outcome.append(error)

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    reader.join(60)
    assert not reader.is_alive(), "the child hung after its writer failed"
    assert len(outcome) == 1 and isinstance(outcome[0], EvidenceError)
    assert "stopped unexpectedly" in str(outcome[0])


def test_blobs_survive_the_pipe(tmp_path: Path) -> None:
    path = tmp_path / "call.amr"
    path.write_bytes(b"#!AMR\n" + bytes(range(256)))
    for blob in (Blob.of_bytes("a.png", fx.PNG, "image/png"), Blob.of_file("call.amr", path)):
        copy = pickle.loads(pickle.dumps(blob))
        with blob.open() as original, copy.open() as travelled:
            assert travelled.read() == original.read()
        assert (copy.name, copy.media_type) == (blob.name, blob.media_type)
