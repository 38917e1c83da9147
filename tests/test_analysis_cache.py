"""The analysis cache: the same report as reading every entry, and used only while it holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from evidence import analysis_cache, model, reading, rules, timeutil
from evidence.errors import DecryptionFailed
from evidence.ledger import Store
from evidence.model import Attachment
from evidence.store import migrate
from evidence.store.schema import analysis_blocks
from tests.conftest import PASSPHRASE, tamper
from tests.test_dedup_index import _alembic

SMALL = 4  # entries per block in these tests, so that a few entries fill several blocks


@pytest.fixture(autouse=True)
def small_blocks():
    with mock.patch.object(analysis_cache, "BLOCK", SMALL):
        yield


class Reads:
    """Counts the entries read one by one (opened, checked and parsed)."""

    def __init__(self) -> None:
        self.count = 0
        self._read_all = reading.EntryReader.read_all

    def __enter__(self) -> Reads:
        def counting(reader, rows):
            made = self._read_all(reader, rows)
            self.count += len(made)
            return made

        self._patch = mock.patch.object(reading.EntryReader, "read_all", counting)
        self._patch.start()
        return self

    def __exit__(self, *exc) -> None:
        self._patch.stop()


def _reports(entries, lexicon=None, reference=False) -> list[dict]:
    report = rules.reference_report if reference else rules.report
    found = []
    for jurisdiction in rules.JURISDICTIONS:
        found.append(report(entries, jurisdiction, lexicon=lexicon).to_dict())
    found.append(report(entries, "cn", platform="京东金条").to_dict())
    found.append(report(entries, "us", zone="America/New_York").to_dict())
    return found


def _blocks(store: Store, log_id: str) -> dict[int, bytes]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(analysis_blocks.c.block, analysis_blocks.c.sealed).where(
                analysis_blocks.c.log_id == log_id
            )
        )
        return {block: bytes(sealed) for block, sealed in rows}


_SAID = st.sampled_from(
    ["", "请还款", "你这个老赖", "告诉你妈妈你欠了钱", "转到我的卡上", "法院传票"]
)
_STEP = st.one_of(
    st.tuples(
        st.sampled_from(["call", "sms", "message", "contact", "fact"]),
        st.integers(0, 20 * 24 * 60),
        st.sampled_from(["京东金条", "美团", None]),
        _SAID,
        st.booleans(),
    ),
    st.tuples(st.just("amend"), st.integers(0, 10**6), st.sampled_from(["美团", None]), _SAID),
    st.tuples(st.just("retract"), st.integers(0, 10**6)),
)


def _apply(log, make_draft, steps) -> None:
    for step in steps:
        kind = step[0]
        events = [
            e
            for e in log.entries()
            if e.kind in ("call", "sms", "message", "contact") and e.retracted_by is None
        ]
        if kind in ("amend", "retract"):
            if not events:
                continue
            target = events[step[1] % len(events)]
            if kind == "retract":
                log.retract(target.seq, "not a collector")
            else:
                changes = {"said": step[3]} if step[3] else {"tags": ["威胁"]}
                if step[2]:
                    changes["platform"] = step[2]
                log.amend(target.seq, changes, "wrong", target.occurred_at + timedelta(hours=3))
            continue
        _kind, minutes, platform, said, answered = step
        when = f"2026-11-{1 + minutes // 1440:02d} {minutes // 60 % 24:02d}:{minutes % 60:02d}"
        fields: dict = {"platform": platform} if platform else {}
        if kind == "fact":
            fields = {"fact": "agreed_time", "window": "22:00-23:00"} if answered else {}
            fields = fields or {"fact": "contact_refused", "contact_name": "妈妈"}
        elif said:
            fields["said"] = said
        if kind == "call":
            fields["answered"] = answered
        if answered and kind == "sms":
            fields["tags"] = ["辱骂"]
        if kind == "fact":
            instant = timeutil.parse_instant(when, timeutil.zone("Asia/Shanghai"))
            log.append([model.make_draft("fact", instant, fields)])
        else:
            log.append([make_draft(kind, when, **fields)])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(_STEP, min_size=1, max_size=12))
def test_the_cached_reading_gives_the_reports_of_reading_every_entry(
    tmp_path: Path, log, make_draft, steps
) -> None:
    # One log for all the examples: it grows, across block boundaries, with corrections.
    _apply(log, make_draft, steps)
    full = _reports(log.entries())
    extended = rules.Lexicon({"threat": ["请还款"]})
    full_extended = _reports(log.entries(), extended)
    assert full == _reports(log.entries(), reference=True)
    assert full_extended == _reports(log.entries(), extended, reference=True)
    for _ in range(2):  # the first builds the blocks, the second opens them
        assert _reports(log.analysis_entries()) == full
        assert _reports(log.analysis_entries(), extended) == full_extended
        assert _reports(log.analysis_source()) == full
        assert _reports(log.analysis_source(), extended) == full_extended


def test_a_second_analysis_opens_blocks_instead_of_entries(store, log, make_draft) -> None:
    log.append([make_draft("sms", f"2026-11-20 {h:02d}:00", said="你这个老赖") for h in range(11)])
    with Reads() as first:
        before = log.analysis_entries()
    assert first.count == 11  # two whole blocks built, the three after them read
    assert sorted(_blocks(store, log.log_id)) == [0, 1]
    with Reads() as second:
        again = log.analysis_entries()
    assert second.count == 3  # only the partial block
    assert again == before
    assert [e.lexicon_signals for e in again[:8]] == [("insult",)] * 8
    log.append([make_draft("sms", "2026-11-21 08:00")])
    with Reads() as third:
        assert len(log.analysis_entries()) == 12
    assert third.count == 4  # the third block is now whole: built, and kept
    assert sorted(_blocks(store, log.log_id)) == [0, 1, 2]


def test_the_rows_of_kept_blocks_are_read_without_their_entries(store, log, make_draft) -> None:
    log.append([make_draft("sms", f"2026-11-20 {h:02d}:00", said="你这个老赖") for h in range(9)])
    log.append([make_draft("contact", "2026-11-20 23:30", contact_name="妈妈")])
    log.amend(1, {"said": "请还款"}, "wrong words", None)
    expected = rules.reference_report(log.entries(), "cn")
    log.analysis_source()  # builds the blocks
    with Reads() as reads:
        source = log.analysis_source()
        report = rules.report(source, "cn")
    assert report == expected
    # the partial block (entries 8 to 10) and the amended SMS, read again whole; the
    # third-party contact is kept whole in its block
    assert [len(c) for c in source.chunks] == [4, 4]
    assert [e.seq for e in source.entries] == [8, 9, 10]
    assert reads.count == 3 + 1
    assert "CN-3P-1" in {f.rule_id for f in report.findings}


def test_amended_events_are_read_a_few_numbers_per_query(store, log, make_draft) -> None:
    from evidence import ledger

    log.append([make_draft("sms", f"2026-11-20 {h:02d}:00", said="请还款") for h in range(8)])
    for seq in (0, 2, 5, 6, 7):
        log.amend(seq, {"said": "你这个老赖"}, "wrong words", None)
    expected = rules.reference_report(log.entries(), "cn")
    log.analysis_source()  # builds blocks 0 to 2
    with mock.patch.object(ledger, "_NUMBERS_PER_QUERY", 2):
        queried = []
        sealed_rows = log._sealed_rows

        def counting(*args, **kwargs):
            if kwargs.get("numbers") is not None:
                queried.append(list(kwargs["numbers"]))
            return sealed_rows(*args, **kwargs)

        with mock.patch.object(log, "_sealed_rows", counting):
            assert rules.report(log.analysis_source(), "cn") == expected
    # blocks 0 and 1 keep entries 0 to 7 as rows only: the five amended ones, two per query
    assert queried == [[0, 2], [5, 6], [7]]


def test_a_changed_row_derivation_rebuilds_the_blocks(store, log, make_draft) -> None:
    from evidence.rules import rows

    log.append([make_draft("sms", f"2026-11-20 {h:02d}:00", tags=["威胁"]) for h in range(4)])
    expected = rules.report(log.entries(), "cn")
    log.analysis_source()
    with mock.patch.object(rows, "ROWS_VERSION", rows.ROWS_VERSION + 1), Reads() as reads:
        assert rules.report(log.analysis_source(), "cn") == expected
    assert reads.count == 4
    aliases = {**rows.lexicon_module.TAG_ALIASES, "吓唬": "threat"}
    with mock.patch.object(rows.lexicon_module, "TAG_ALIASES", aliases), Reads() as reads:
        log.analysis_source()
    assert reads.count == 4  # the tag names are part of how rows are read


def test_a_block_that_does_not_open_is_rebuilt_and_replaced(store, log, make_draft) -> None:
    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(8)])
    expected = _reports(log.entries())
    log.analysis_entries()
    good = _blocks(store, log.log_id)
    flipped = bytes([good[1][0] ^ 1]) + good[1][1:]
    with store.engine.begin() as conn:
        conn.execute(
            update(analysis_blocks)
            .where(analysis_blocks.c.log_id == log.log_id, analysis_blocks.c.block == 1)
            .values(sealed=flipped)
        )
    with Reads() as reads:
        assert _reports(log.analysis_entries()) == expected
    assert reads.count == 4
    rebuilt = _blocks(store, log.log_id)
    assert rebuilt[0] == good[0] and rebuilt[1] not in (flipped, good[1])  # a fresh nonce


def test_a_block_moved_to_another_place_does_not_open(store, log, make_draft) -> None:
    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(8)])
    log.analysis_entries()
    blocks = _blocks(store, log.log_id)
    with store.engine.begin() as conn:
        conn.execute(
            update(analysis_blocks)
            .where(analysis_blocks.c.log_id == log.log_id, analysis_blocks.c.block == 1)
            .values(sealed=blocks[0])
        )
    with Reads() as reads:
        entries = log.analysis_entries()
    assert reads.count == 4 and [e.seq for e in entries] == list(range(8))


def test_an_entry_changed_in_the_store_is_read_again_and_refused(store, log, make_draft) -> None:
    # The block is bound to its entries' commitments: one changed, the block no longer
    # opens, and reading the entries refuses the changed one, exactly as entries() does.
    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(4)])
    log.analysis_entries()
    tamper(
        store,
        "UPDATE entries SET commitment = :c WHERE log_id = :log AND seq = 2",
        c=bytes(32),
        log=log.log_id,
    )
    with pytest.raises(DecryptionFailed, match="entry 2 does not match its commitment"):
        log.entries()
    with pytest.raises(DecryptionFailed, match="entry 2 does not match its commitment"):
        log.analysis_entries()


def test_a_changed_curated_lexicon_rebuilds_the_blocks(store, log, make_draft) -> None:
    log.append([make_draft("sms", f"2026-11-20 {h:02d}:00", said="法院传票") for h in range(4)])
    log.analysis_entries()
    with (
        mock.patch.object(rules.lexicon, "default_fingerprint", return_value="ab" * 32),
        Reads() as reads,
    ):
        log.analysis_entries()
    assert reads.count == 4


def test_a_log_of_another_key_cannot_open_this_logs_blocks(store, log, make_draft) -> None:
    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(4)])
    log.analysis_entries()
    sealed = _blocks(store, log.log_id)[0]
    key = analysis_cache.block_key(b"\x01" * 32, log.log_id)
    from evidence import crypto

    aad = analysis_cache.block_aad(
        log.log_id, 0, log._commitments()[:4], analysis_cache.curated_fingerprint()
    )
    assert analysis_cache.open_block(crypto.Sealer(key), sealed, aad, 0, 4) is None


def test_no_text_of_an_entry_is_in_the_store_in_clear(database_url, store, log, make_draft):
    if not database_url.startswith("sqlite"):
        pytest.skip("reads the SQLite files")
    said = "再不还钱就去你单位找你领导谈谈"
    log.append([make_draft("sms", f"2026-11-20 {h:02d}:00", said=said) for h in range(8)])
    log.analysis_entries()
    assert len(_blocks(store, log.log_id)) == 2
    path = Path(database_url.removeprefix("sqlite:///"))
    for name in (path, path.with_name(path.name + "-wal")):
        if name.exists():
            assert said.encode() not in name.read_bytes()
            assert "单位找你领导".encode() not in name.read_bytes()


def test_a_store_that_refuses_the_blocks_still_analyses(store, log, make_draft):
    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(8)])
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'read-only'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER no_blocks BEFORE INSERT ON analysis_blocks "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER no_blocks BEFORE INSERT ON analysis_blocks "
                    "BEGIN SELECT RAISE(ABORT, 'read-only'); END"
                )
            )
    expected = _reports(log.entries())
    assert _reports(log.analysis_entries()) == expected
    assert _blocks(store, log.log_id) == {}


def test_a_text_orjson_cannot_write_leaves_its_block_uncached() -> None:
    from evidence import crypto

    entry = analysis_cache.AnalysisEntry(
        0, "sms", datetime(2026, 11, 20, tzinfo=UTC), "UTC", {"said": "\ud800"}, (), None
    )
    sealer = crypto.Sealer(bytes(32))
    assert analysis_cache.seal_block(sealer, [entry], b"aad")[0] is None
    # and its report, from the entry itself, finds what the words around it say
    insult = entry._replace(fields={"said": "\ud800你这个老赖"})
    assert "CN-LANG-1" in [f.rule_id for f in rules.analyze([insult], "cn")]
    assert rules.analyze([insult], "cn") == rules.reference_analyze([insult], "cn")
    fine = entry._replace(
        fields={"said": "ok"},
        attachments=(Attachment("a" * 64, 3, "a.txt", "text/plain"),),
        micros=1795132800000000,
    )
    sealed, _rows = analysis_cache.seal_block(sealer, [fine], b"aad")
    assert analysis_cache.open_block(sealer, sealed, b"aad", 0, 1) == [fine]
    chunk = analysis_cache.open_chunk(sealer, sealed, b"aad", 0, 1)
    assert chunk.texts == ["ok"] and chunk.attached.tolist() == [True]
    assert chunk.objects[0].attachments == fine.attachments  # kept whole for the summary
    assert analysis_cache.open_chunk(sealer, sealed, b"aad", 1, 1) is None
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert analysis_cache.open_chunk(sealer, flipped, b"aad", 0, 1) is None
    assert analysis_cache.open_chunk(sealer, sealed, b"other", 0, 1) is None
    assert analysis_cache.open_block(sealer, sealed, b"aad", 1, 1) is None  # another place


def test_a_store_of_schema_0004_gets_the_table_and_its_blocks_are_dropped_with_it(
    database_url, tmp_path, store, log, make_draft
) -> None:
    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(4)])
    log.analysis_entries()
    _alembic(store, "downgrade", "0004")
    store.close()
    reopened = Store.open(database_url, tmp_path / "blobs")
    try:
        assert migrate.current_revision(reopened.engine) == migrate.HEAD_REVISION == "0005"
        again = reopened.unlock(log.log_id, PASSPHRASE)
        assert _blocks(reopened, log.log_id) == {}
        assert len(again.analysis_entries()) == 4
        assert sorted(_blocks(reopened, log.log_id)) == [0]
    finally:
        reopened.close()


def test_a_first_analysis_writes_its_blocks_a_few_at_a_time(store, log, make_draft) -> None:
    from evidence import ledger

    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(21)])
    writes = []
    keep = ledger.Log._keep_analysis_blocks

    def counting(self, blocks):
        writes.append([block for block, _sealed in blocks])
        keep(self, blocks)

    with (
        mock.patch.object(ledger, "_BLOCKS_PER_WRITE", 2),
        mock.patch.object(ledger.Log, "_keep_analysis_blocks", counting),
    ):
        assert len(log.analysis_entries()) == 21
    assert writes == [[0, 1], [2, 3], [4]]
    assert sorted(_blocks(store, log.log_id)) == [0, 1, 2, 3, 4]


def test_a_busy_store_is_not_waited_for(database_url, store, log, make_draft) -> None:
    # An import in another process holds the write lock: analysis does not wait the 30 s a
    # write would, it goes on without keeping its blocks, and keeps them next time.
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer")
    import sqlite3
    import time

    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(8)])
    expected = _reports(log.entries())
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        assert _reports(log.analysis_entries()) == expected
        assert time.monotonic() - started < 10
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _blocks(store, log.log_id) == {}
    log.analysis_entries()
    assert sorted(_blocks(store, log.log_id)) == [0, 1]
    with store.engine.connect() as conn:  # the pool's connections wait as long as before
        timeout = conn.connection.driver_connection.execute("PRAGMA busy_timeout").fetchone()
    assert timeout == (30_000,)


@given(
    instant=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    offset=st.one_of(
        st.just(None),
        st.integers(-14 * 3600, 14 * 3600).map(lambda s: timezone(timedelta(seconds=s))),
    ),
)
def test_a_blocks_times_come_back_with_their_own_offset(instant, offset) -> None:
    from evidence import crypto

    at = instant if offset is None else instant.astimezone(offset)
    entry = analysis_cache.AnalysisEntry(0, "call", at, "Asia/Shanghai", {}, (), None)
    sealer = crypto.Sealer(bytes(32))
    sealed, _rows = analysis_cache.seal_block(sealer, [entry], b"aad")
    (back,) = analysis_cache.open_block(sealer, sealed, b"aad", 0, 1)
    assert back.occurred_at == at
    assert back.occurred_at.utcoffset() == at.utcoffset()
    assert back.occurred_at.tzinfo is UTC or offset is not None
    # the instant the rows count, in µs, is the same instant
    assert back.micros == (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    chunk = analysis_cache.open_chunk(sealer, sealed, b"aad", 0, 1)
    assert chunk.instant.tolist() == [back.micros]


def test_a_first_analysis_runs_the_lexicon_once_per_distinct_text() -> None:
    texts: list[str] = []

    def match(text: str) -> set[str]:
        texts.append(text)
        return {"insult"} if "老赖" in text else set()

    remembered = analysis_cache.remembering(match)
    assert [remembered(t) for t in ["你这个老赖", "请还款", "你这个老赖"]] == [
        {"insult"},
        set(),
        {"insult"},
    ]
    assert texts == ["你这个老赖", "请还款"]


def test_a_log_with_a_gap_in_its_numbers_is_read_whole(store, log, make_draft) -> None:
    # Only a hand-made change can leave a gap; no block can describe such a log.
    log.append([make_draft("call", f"2026-11-20 {h:02d}:30") for h in range(6)])
    log.amend(3, {"platform": "美团"}, "wrong platform")
    tamper(store, "DELETE FROM entries WHERE log_id = :log AND seq = 1", log=log.log_id)
    read = log.analysis_entries()
    assert [e.seq for e in read] == [0, 2, 3, 4, 5, 6]
    assert read[2].amended_by == (6,) and "platform" not in read[2].fields  # as recorded
    assert _reports(read) == _reports(log.entries())
    assert _reports(log.analysis_source()) == _reports(log.entries(), reference=True)
    assert _blocks(store, log.log_id) == {}
