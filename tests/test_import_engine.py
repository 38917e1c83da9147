"""The import engine: counting repeats within one import, keeping the calls of collection
numbers found by --keywords, and matching recordings without holding the log in memory."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.importers import engine
from evidence.importers.engine import ImportOptions, run_import
from evidence.importers.seen import SeenKeys
from evidence.importers.selection import Selection, keywords_from
from tests import importfixtures as fx

_counter = itertools.count()


def _run(log, *paths: Path, **options):
    return run_import(log, list(paths), ImportOptions(**options))


def _sms(i: int, number: str = "13800138000", body: str = "") -> fx.Sms:
    return fx.Sms(number, fx.BASE_MS + i * 60_000, body or f"message {i}")


# --- 1. the same record twice within one import -------------------------------------------------


def test_a_record_twice_in_one_file_is_repeated_not_already_in_the_log(log, tmp_path) -> None:
    path = fx.write_sms_xml(tmp_path / "sms.xml", [_sms(1), _sms(2), _sms(1), _sms(1)])
    dry = _run(log, path, dry_run=True)
    assert (dry.new, dry.duplicates, dry.repeated) == (2, 0, 2)
    summary = _run(log, path)
    assert (summary.new, summary.duplicates, summary.repeated) == (2, 0, 2)
    assert summary.files[0].repeated == 2 and summary.files[0].original_kept
    again = _run(log, path)
    assert (again.new, again.duplicates, again.repeated) == (0, 4, 0)


def test_the_same_file_twice_in_one_run_across_batches(log, tmp_path) -> None:
    first = fx.write_sms_xml(tmp_path / "sms-1.xml", [_sms(i) for i in range(7)])
    (tmp_path / "copy").mkdir()
    second = Path(shutil.copy(first, tmp_path / "copy" / "sms-2.xml"))
    summary = _run(log, first, second, batch_size=3)
    assert (summary.new, summary.duplicates, summary.repeated) == (7, 0, 7)
    assert [(f.new, f.repeated) for f in summary.files] == [(7, 0), (0, 7)]
    assert log.count() == 7 + 1  # one original: both files have the same bytes


def test_already_in_the_log_and_repeated_are_told_apart(log, tmp_path) -> None:
    _run(log, fx.write_sms_xml(tmp_path / "old.xml", [_sms(1), _sms(2)]))
    later = fx.write_sms_xml(tmp_path / "new.xml", [_sms(1), _sms(3), _sms(3), _sms(2), _sms(1)])
    dry = _run(log, later, dry_run=True)
    summary = _run(log, later)
    for counted in (dry, summary):
        assert (counted.new, counted.duplicates, counted.repeated) == (1, 3, 1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picks=st.lists(st.integers(0, 6), min_size=1, max_size=25),
    cut=st.integers(0, 25),
    batch=st.integers(1, 5),
)  # fmt: skip
def test_property_counts_add_up_whatever_the_repeats(log, tmp_path, picks, cut, batch) -> None:
    folder = tmp_path / f"case{next(_counter)}"
    folder.mkdir()
    cut = min(cut, len(picks))
    paths = [fx.write_sms_xml(folder / "sms-a.xml", [_sms(i) for i in picks[:cut]])]
    if picks[cut:]:
        paths.append(fx.write_sms_xml(folder / "sms-b.xml", [_sms(i) for i in picks[cut:]]))
    before = log.count()
    already = {e.fields["said"] for e in log.entries() if e.kind == "sms"}
    wanted = {f"message {i}" for i in picks}
    dry = _run(log, *paths, batch_size=batch, dry_run=True)
    summary = _run(log, *paths, batch_size=batch, keep_source=False)
    for counted in (dry, summary):
        assert counted.new == len(wanted - already)
        assert counted.duplicates == sum(f"message {i}" in already for i in picks)
        assert counted.repeated == len(picks) - counted.new - counted.duplicates
    assert log.count() - before == summary.new


def test_the_cli_says_repeated(tmp_path, database_url) -> None:
    from cli.main import cli

    postgres = database_url if database_url.startswith("postgresql") else ""
    env = {"EVIDENCE_STORE": str(tmp_path / "store"), "EVIDENCE_PASSPHRASE": "pass phrase 一二",
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "EVIDENCE_DATABASE_URL": postgres}  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--kdf-memory", "8"], env=env).exit_code == 0
    path = fx.write_sms_xml(tmp_path / "sms.xml", [_sms(1), _sms(1), _sms(2)])
    result = runner.invoke(cli, ["import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "  2 new" in result.output and "  0 already in the log" in result.output
    assert "  1 repeated within this import" in result.output
    assert "1 repeated, " in result.output


# --- 2. --keywords keeps the calls of numbers that sent a collection text ----------------------

COLLECTOR, FRIEND = "13800130001", "13900139000"


def _calls(tmp_path: Path, name: str = "calls-1.xml") -> Path:
    return fx.write_calls_xml(
        tmp_path / name,
        [fx.Call(f"+86 {COLLECTOR}", fx.BASE_MS + 3_600_000, 1, 60),
         fx.Call(FRIEND, fx.BASE_MS + 7_200_000, 1, 60)],
    )  # fmt: skip


def _texts(tmp_path: Path, incoming: bool = True) -> Path:
    return fx.write_sms_xml(
        tmp_path / "sms-1.xml",
        [fx.Sms(COLLECTOR, fx.BASE_MS, "【某贷】您已逾期，请今日还款", type=1 if incoming else 2),
         fx.Sms(FRIEND, fx.BASE_MS + 60_000, "周末吃饭吗")],
    )  # fmt: skip


def _keywords() -> Selection:
    return Selection(keywords=keywords_from(["default"]))


def test_calls_of_a_number_that_sent_a_keyword_text_are_kept(log, tmp_path) -> None:
    # The calls file is given first: texts are read first whatever the order.
    selection = _keywords()
    summary = _run(log, _calls(tmp_path), _texts(tmp_path), selection=selection)
    assert selection.senders == set()  # learned by the run, not written into the options
    assert [f.name for f in summary.files] == ["sms-1.xml", "calls-1.xml"]
    assert (summary.new, summary.filtered, summary.senders) == (2, 2, 1)
    kinds = sorted((e.kind, e.fields["number"]["e164"]) for e in log.entries() if e.kind != "other")
    assert kinds == [("call", "+86" + COLLECTOR), ("sms", "+86" + COLLECTOR)]


def test_a_sender_already_in_the_log_keeps_its_calls_in_a_later_import(log, tmp_path) -> None:
    _run(log, _texts(tmp_path), selection=_keywords())
    summary = _run(log, _calls(tmp_path), selection=_keywords())
    assert (summary.new, summary.filtered, summary.senders) == (1, 1, 1)


def test_a_keyword_written_by_the_borrower_does_not_make_a_collection_number(log, tmp_path) -> None:
    summary = _run(log, _texts(tmp_path, incoming=False), _calls(tmp_path), selection=_keywords())
    assert (summary.new, summary.senders) == (1, 0)  # the outgoing text only
    assert all(e.kind != "call" for e in log.entries())


def test_senders_inside_one_zip_and_the_date_filter(log, tmp_path) -> None:
    archive = fx.write_zip(
        tmp_path / "backup.zip",
        {"calls-1.xml": _calls(tmp_path), "sms-1.xml": _texts(tmp_path)},
    )
    selection = _keywords()
    selection.since = fx.datetime.fromtimestamp((fx.BASE_MS + 1_000_000) / 1000, fx.UTC)
    summary = _run(log, archive, selection=selection)
    # the text is before --since, yet it still shows that the number collects
    assert (summary.new, summary.senders) == (1, 1)
    assert [e.kind for e in log.entries()] == ["call", "other"]


# --- 3. recordings are matched without loading the whole log ---------------------------------


def _no_full_read(log, monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("the whole log was loaded")

    monkeypatch.setattr(log, "entries", refuse)
    monkeypatch.setattr(log, "entry", refuse)


def test_recordings_match_in_chunks_without_loading_the_log(log, tmp_path, monkeypatch) -> None:
    calls = fx.write_calls_xml(
        tmp_path / "calls.xml",
        # 2025-03-02 10:00:30 and 2025-03-03 11:00:05 in Shanghai (the names: 10:00:00, 11:00:00)
        [fx.Call("13800130002", fx.BASE_MS + 17 * 3_600_000 + 30_000, 1, 80),
         fx.Call("13800130003", fx.BASE_MS + 42 * 3_600_000 + 5_000, 2, 50)],
    )  # fmt: skip
    _run(log, calls)
    folder = fx.write_recordings(tmp_path / "rec")
    monkeypatch.setattr(engine, "RECORDING_CHUNK", 2)
    monkeypatch.setattr(engine, "LOG_CHUNK", 3)
    _no_full_read(log, monkeypatch)
    summary = _run(log, folder)
    assert (summary.new, summary.attached) == (3, 2)
    monkeypatch.undo()
    amended = {e.seq: e for e in log.entries() if e.amended_by}
    assert sorted(e.fields["number"]["raw"] for e in amended.values()) == [
        "13800130002", "13800130003"
    ]  # fmt: skip


def test_a_retracted_call_gets_no_recording(log, tmp_path) -> None:
    calls = fx.write_calls_xml(
        tmp_path / "calls.xml", [fx.Call("13800130001", fx.BASE_MS + 600_000, 1, 40)]
    )
    _run(log, calls)
    call = next(e for e in log.entries() if e.kind == "call")
    log.retract(call.seq, "wrong number")
    folder = fx.write_recordings(tmp_path / "rec", fx.RECORDING_NAMES[1:2])  # 17:10:00
    summary = _run(log, folder)
    assert (summary.new, summary.attached) == (1, 0)


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_same_recording_twice_in_one_run(log, tmp_path, dry_run) -> None:
    folder = fx.write_recordings(tmp_path / "a", fx.RECORDING_NAMES[:2])
    copy = fx.write_recordings(tmp_path / "b", fx.RECORDING_NAMES[:2])
    summary = _run(log, folder, copy, dry_run=dry_run)
    assert (summary.new, summary.repeated) == (2, 2)


def test_the_cli_says_which_calls_were_kept_for_their_texts(tmp_path, database_url) -> None:
    from cli.main import cli

    postgres = database_url if database_url.startswith("postgresql") else ""
    env = {"EVIDENCE_STORE": str(tmp_path / "store"), "EVIDENCE_PASSPHRASE": "pass phrase 一二",
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "EVIDENCE_DATABASE_URL": postgres}  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--kdf-memory", "8"], env=env).exit_code == 0
    calls, texts = _calls(tmp_path), _texts(tmp_path)
    result = runner.invoke(
        cli, ["import", "--keywords", "default", str(calls), str(texts)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "kept, calls of a number that sent a text holding a keyword: 1" in result.output
    assert "  2 new" in result.output and "  2 skipped by the filters" in result.output


def test_seen_keys_hold_keyed_digests_only(log) -> None:
    seen = SeenKeys(log.dedup_digest)
    assert "a" not in seen
    assert seen.add(["a", "b", "a"]) == [True, True, False]
    assert seen.add(["b", "c"]) == [False, True]
    assert "a" in seen and "d" not in seen
    assert seen._db is not None
    stored = {row[0] for row in seen._db.execute("SELECT digest FROM seen")}
    assert stored == {log.dedup_digest(k) for k in "abc"}  # keyed: nothing in clear
    seen.close()
    assert "a" not in seen
