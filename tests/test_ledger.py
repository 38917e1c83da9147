"""The log: keys, appending, corrections, reading and signed heads, on the configured database."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from evidence import canonical, crypto, hashing, model, phone, timeutil
from evidence.errors import Conflict, InvalidInput, NotFound, StoreUnavailable, WrongSecret
from evidence.ledger import Store
from evidence.store.schema import entries, heads, key_slots
from tests.conftest import PASSPHRASE, cheap_kdf
from tests.test_merkle import naive_mth

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sealed_rows(store, log_id):
    with store.engine.connect() as conn:
        return conn.execute(
            select(entries.c.seq, entries.c.commitment, entries.c.sealed)
            .where(entries.c.log_id == log_id)
            .order_by(entries.c.seq)
        ).all()


def committed_plaintext(log, seq):
    sealer, _ = log._check_access()
    row = next(r for r in sealed_rows(log.store, log.log_id) if r.seq == seq)
    plain = sealer.unseal(row.sealed, hashing.entry_aad(log.log_id, seq))
    return plain[: hashing.SALT_BYTES], plain[hashing.SALT_BYTES :]


# --- creating and unlocking -------------------------------------------------------------------


def test_create_log(store, clock):
    log, code = store.create_log(PASSPHRASE, zone="Asia/Shanghai", kdf=cheap_kdf())
    assert store.log_ids() == [log.log_id]
    info = store.info(log.log_id)
    assert info.zone == "Asia/Shanghai"
    assert info.public_key == log.info.public_key and len(info.public_key) == 32
    assert info.fingerprint == crypto.fingerprint(info.public_key)
    assert len(code.split("-")) == 8
    # The empty log starts with one signed head of size 0.
    (head,) = log.heads()
    assert (head.size, head.root) == (0, naive_mth([]))
    assert crypto.verify_signature(info.public_key, head.signature, head.message())
    assert log.count() == 0 and log.entries() == [] and log.check().ok
    # Nothing secret is stored in the clear.
    with store.engine.connect() as conn:
        slots = conn.execute(select(key_slots).where(key_slots.c.log_id == log.log_id)).all()
    assert sorted(s.kind for s in slots) == ["passphrase", "recovery"]
    assert all(log._data_key not in s.wrapped for s in slots)
    assert all(PASSPHRASE.encode() not in (s.kdf or "").encode() for s in slots)


def test_create_log_refuses_bad_input(store):
    with pytest.raises(InvalidInput):
        store.create_log("", kdf=cheap_kdf())
    with pytest.raises(InvalidInput, match="unknown time zone"):
        store.create_log(PASSPHRASE, zone="Mars/Olympus", kdf=cheap_kdf())
    log, _ = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    with pytest.raises(Conflict):
        store.create_log(PASSPHRASE, kdf=cheap_kdf(), log_id=log.log_id)
    assert store.log_ids() == [log.log_id]


def test_unlock(store, log, make_draft):
    log.append([make_draft()])
    again = store.unlock(log.log_id, PASSPHRASE)
    assert again.log_id == log.log_id
    assert again.entries() == log.entries()
    # The passphrase is NFC-normalised: the same words typed decomposed open the log.
    import unicodedata

    assert store.unlock(log.log_id, unicodedata.normalize("NFD", PASSPHRASE)).count() == 1
    with pytest.raises(NotFound):
        store.unlock("0b7e4c1a-0000-4000-8000-000000000001", PASSPHRASE)


def test_wrong_passphrase_changes_nothing(store, log, make_draft):
    log.append([make_draft()])
    before = (sealed_rows(store, log.log_id), log.heads())
    with store.engine.connect() as conn:
        slots_before = conn.execute(select(key_slots).order_by(key_slots.c.id)).all()
    for wrong in ("wrong", PASSPHRASE + " ", PASSPHRASE.upper()):
        with pytest.raises(WrongSecret):
            store.unlock(log.log_id, wrong)
    with store.engine.connect() as conn:
        assert conn.execute(select(key_slots).order_by(key_slots.c.id)).all() == slots_before
    assert (sealed_rows(store, log.log_id), log.heads()) == before
    assert store.unlock(log.log_id, PASSPHRASE).count() == 1


def test_recovery_code(store, make_draft):
    log, code = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    log.append([make_draft()])
    recovered = store.unlock_with_recovery_code(log.log_id, code.lower().replace("-", " "))
    assert recovered.entries() == log.entries()
    with pytest.raises(WrongSecret):
        store.unlock_with_recovery_code(log.log_id, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
    with pytest.raises(InvalidInput):
        store.unlock_with_recovery_code(log.log_id, "not a code")
    # A passphrase is not a recovery code, and a recovery code is not a passphrase.
    with pytest.raises(WrongSecret):
        store.unlock(log.log_id, code)

    new_code = recovered.replace_recovery_code()
    assert new_code != code
    with pytest.raises(WrongSecret):
        store.unlock_with_recovery_code(log.log_id, code)
    assert store.unlock_with_recovery_code(log.log_id, new_code).count() == 1
    assert store.unlock(log.log_id, PASSPHRASE).count() == 1


def test_change_passphrase_rewraps_without_re_encrypting(store, make_draft):
    log, code = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    log.append([make_draft(), make_draft("sms")])
    attachment = log.add_attachment(io.BytesIO(b"recording"), "a.m4a")
    log.append(
        [model.make_draft("other", datetime(2026, 11, 1, tzinfo=UTC), {"said": "x"}, (attachment,))]
    )
    blob_files = {p: p.read_bytes() for p in store.blobs.files(log.log_id)}
    rows, old_heads, old_entries = sealed_rows(store, log.log_id), log.heads(), log.entries()

    log.change_passphrase("a new passphrase 新", kdf=cheap_kdf())

    with pytest.raises(WrongSecret):
        store.unlock(log.log_id, PASSPHRASE)
    reopened = store.unlock(log.log_id, "a new passphrase 新")
    assert reopened.entries() == old_entries
    assert b"".join(reopened.read_attachment(attachment.sha256)) == b"recording"
    assert sealed_rows(store, log.log_id) == rows  # no entry was re-encrypted
    assert {p: p.read_bytes() for p in store.blobs.files(log.log_id)} == blob_files
    assert reopened.heads() == old_heads
    assert store.unlock_with_recovery_code(log.log_id, code).count() == 3
    with store.engine.connect() as conn:
        kinds = conn.execute(
            select(key_slots.c.kind).where(key_slots.c.log_id == log.log_id)
        ).scalars()
        assert sorted(kinds) == ["passphrase", "recovery"]
    assert reopened.check().ok


# --- appending --------------------------------------------------------------------------------


def test_append_assigns_places_times_and_heads(log, make_draft, clock):
    made = log.append([make_draft(), make_draft("sms"), make_draft("visit")])
    assert [e.seq for e in made] == [0, 1, 2]
    assert [e.kind for e in made] == ["call", "sms", "visit"]
    assert made[0].occurred_at == datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI)
    assert made[0].recorded_at < made[1].recorded_at < made[2].recorded_at <= clock.now
    assert made[0].zone == "Asia/Shanghai"
    assert made[1].fields["number"]["class"] == phone.SMS_PORT
    assert len({e.commitment for e in made}) == 3
    more = log.append([make_draft("letter")])
    assert more[0].seq == 3
    assert [h.size for h in log.heads()] == [0, 3, 4]
    assert log.count() == 4
    assert log.entries() == made + more
    assert log.append([]) == [] and len(log.heads()) == 3


def test_entries_are_stored_sealed(store, log, make_draft):
    log.append([make_draft(said="说明天去我单位找领导")])
    (row,) = sealed_rows(store, log.log_id)
    assert "说明天".encode() not in row.sealed
    assert b"13812345678" not in row.sealed
    salt, encoded = committed_plaintext(log, 0)
    assert hashing.commitment(salt, encoded) == row.commitment


def test_entry_document_reproduces_the_committed_bytes(log):
    times = [
        datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI),
        datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/London")),  # +00:00, not Z
        datetime(2026, 11, 20, 15, 15, 0, 123, tzinfo=UTC),
    ]
    log.append([model.make_draft("other", at, {"said": "x"}) for at in times])
    for entry in log.entries():
        salt, encoded = committed_plaintext(log, entry.seq)
        assert canonical.encode(entry.document()) == encoded
        assert hashing.commitment(salt, canonical.encode(entry.document())) == entry.commitment


def test_future_times_are_rejected_and_nothing_is_written(log, make_draft, clock):
    log.append([make_draft()])
    heads_before = log.heads()
    soon = clock.now + timedelta(minutes=4)
    late = clock.now + timedelta(minutes=6)
    with pytest.raises(InvalidInput, match="in the future"):
        log.append([make_draft(), model.make_draft("other", late, {"said": "tomorrow"})])
    assert log.count() == 1 and log.heads() == heads_before
    # Within the tolerance for a phone whose clock runs a little fast.
    assert log.append([model.make_draft("other", soon, {"said": "now-ish"})])[0].seq == 1
    assert log.check().ok


def test_attachments_must_exist_in_this_log(store, log, make_draft):
    attachment = log.add_attachment(io.BytesIO(b"photo bytes"), "C:\\photos\\IMG_1.jpg")
    assert attachment.name == "IMG_1.jpg" and attachment.media_type == "image/jpeg"
    assert attachment.size == 11 and attachment.sha256 == crypto.sha256(b"photo bytes").hex()
    at = datetime(2026, 11, 20, tzinfo=SHANGHAI)
    made = log.append([model.make_draft("visit", at, {}, (attachment,))])
    assert made[0].attachments == (attachment,)
    assert log.find_attachment(attachment.sha256[:8]) == attachment

    missing = model.Attachment("00" * 32, 1, "ghost.jpg")
    with pytest.raises(InvalidInput, match=f"attachment {'00' * 32} was not added to this log"):
        log.append([model.make_draft("visit", at, {}, (missing,))])
    other, _ = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    with pytest.raises(InvalidInput, match="was not added to this log"):
        other.append([model.make_draft("visit", at, {}, (attachment,))])
    assert log.count() == 1 and other.count() == 0


# --- corrections ------------------------------------------------------------------------------


def test_one_entry_is_marked_as_the_whole_log_marks_it(log, make_draft):
    # Texts that look like a correction's key (escaped in canonical JSON) and corrections
    # of other entries must not count; every entry read alone equals its place in entries().
    log.append([make_draft(said='"target":0'), make_draft("sms", said='{"target":1}'),
                make_draft()])  # fmt: skip
    log.amend(0, {"said": "改"}, reason="r")
    log.retract(1, "not collection")
    log.amend(0, {"duration": 3}, reason="r")
    log.append([make_draft("sms", said='"target":2,"kind":"amend"')])
    log.amend(2, {"said": "x"}, reason="r")
    whole = log.entries()
    assert [(e.amended_by, e.retracted_by) for e in whole[:3]] == [((3, 5), None), ((), 4),
                                                                    ((7,), None)]  # fmt: skip
    assert [log.entry(e.seq) for e in whole] == whole


def test_amend_leaves_the_original_and_links_it(log, make_draft):
    (original,) = log.append([make_draft(said="说明天去我单位")])
    first = log.amend(0, {"said": "说明天去我单位找领导", "duration": 75}, reason="the full words")
    later = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    second = log.amend(0, {}, reason="wrong time", new_time=later)
    assert (first.seq, first.kind, first.target) == (1, "amend", 0)
    assert first.fields == {
        "target": 0,
        "changes": {"said": "说明天去我单位找领导", "duration": 75},
        "reason": "the full words",
    }
    assert second.fields["changes"] == {"occurred_at": "2026-11-20T14:00:00Z"}
    now = log.entry(0)
    assert now.fields == original.fields and now.commitment == original.commitment
    assert now.occurred_at == original.occurred_at
    assert now.amended_by == (1, 2) and now.retracted_by is None
    assert [e.amended_by for e in log.entries()] == [(1, 2), (), ()]
    with pytest.raises(InvalidInput, match="has no field"):
        log.amend(0, {"location": "x"})
    with pytest.raises(InvalidInput, match="nothing to amend"):
        log.amend(0, {})
    with pytest.raises(InvalidInput, match="entry 1 is a correction"):
        log.amend(1, {"said": "x"})
    with pytest.raises(NotFound):
        log.amend(9, {"said": "x"})
    assert log.count() == 3 and log.check().ok


def test_amend_with_an_attachment(log, make_draft):
    log.append([make_draft()])
    attachment = log.add_attachment(io.BytesIO(b"audio"), "call.amr")
    amendment = log.amend(0, {}, reason="the recording", attachments=(attachment,))
    assert amendment.attachments == (attachment,)
    assert log.check().attachments == 1


def test_retract(log, make_draft):
    log.append([make_draft(), make_draft("sms")])
    retraction = log.retract(1, "entered twice")
    assert (retraction.seq, retraction.kind, retraction.target) == (2, "retract", 1)
    assert log.entry(1).retracted_by == 2
    assert log.entry(0).retracted_by is None
    assert log.entry(1).fields == log.entries()[1].fields  # still readable
    with pytest.raises(Conflict, match="entry 1 was already retracted by entry 2"):
        log.retract(1, "again")
    with pytest.raises(Conflict, match="entry 1 was retracted by entry 2"):
        log.amend(1, {"said": "x"})
    with pytest.raises(InvalidInput, match="entry 2 is a correction"):
        log.retract(2, "retract the retraction")
    with pytest.raises(InvalidInput, match="needs a reason"):
        log.retract(0, " ")
    assert log.count() == 3 and log.check().ok


def test_reading(log, make_draft):
    log.append(
        [
            make_draft(at="2026-11-01 10:00"),
            make_draft("sms", at="2026-11-10 10:00"),
            make_draft("visit", at="2026-11-20 10:00"),
        ]
    )
    since = datetime(2026, 11, 5, tzinfo=SHANGHAI)
    until = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
    assert [e.seq for e in log.entries(since=since)] == [1, 2]
    assert [e.seq for e in log.entries(until=until)] == [0, 1]
    assert [e.seq for e in log.entries(since=since, until=until)] == [1]
    assert log.entry(2).kind == "visit"
    with pytest.raises(NotFound, match="there is no entry 3"):
        log.entry(3)


# --- heads ------------------------------------------------------------------------------------


def test_every_head_is_signed_and_matches_the_entries(log, make_draft):
    for size in (1, 3, 2):
        log.append([make_draft("other", said=f"batch of {size}") for _ in range(size)])
    all_heads = log.heads()
    assert [h.size for h in all_heads] == [0, 1, 4, 6]
    commitments = [e.commitment for e in log.entries()]
    for head in all_heads:
        assert head.log_id == log.log_id
        assert crypto.verify_signature(log.info.public_key, head.signature, head.message())
        assert head.root == naive_mth(commitments[: head.size])
        assert head.signed_at.endswith("Z") or head.signed_at.endswith("+00:00")
    assert log.head() == all_heads[-1]
    # The signed message is the documented text.
    head = log.head()
    assert (
        head.message()
        == (
            f"evidence-log-head/v1\nlog {log.log_id}\nsize 6\nroot {head.root.hex()}\n"
            f"time {head.signed_at}\n"
        ).encode()
    )
    assert log.leaves() == [hashing.leaf(c) for c in commitments]
    assert log.sign_current_head() == head  # idempotent: no new head without new entries


def test_first_head_covering(log, make_draft):
    log.append([make_draft() for _ in range(3)])
    log.append([make_draft() for _ in range(2)])
    assert [log.first_head_covering(seq).size for seq in range(5)] == [3, 3, 3, 5, 5]
    assert log.first_head_covering(5) is None


def test_many_logs_in_one_store_are_independent(store, make_draft):
    a, _ = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    b, _ = store.create_log("another passphrase", zone="Europe/London", kdf=cheap_kdf())
    a.append([make_draft(), make_draft()])
    b.append([make_draft("sms")])
    a.append([make_draft("visit")])
    assert set(store.log_ids()) == {a.log_id, b.log_id}
    assert (a.count(), b.count()) == (3, 1)
    assert [h.size for h in a.heads()] == [0, 2, 3]
    assert [h.size for h in b.heads()] == [0, 1]
    assert [e.seq for e in b.entries()] == [0]
    assert b.entries()[0].log_id == b.log_id and b.entries()[0].zone == "Europe/London"
    assert a.info.public_key != b.info.public_key
    with pytest.raises(WrongSecret):
        store.unlock(b.log_id, PASSPHRASE)
    with pytest.raises(WrongSecret):
        store.unlock(a.log_id, "another passphrase")
    assert a.check().ok and b.check().ok


# --- the store ------------------------------------------------------------------------------


def test_entries_and_heads_are_append_only(store, log, make_draft):
    log.append([make_draft()])
    for statement in (
        update(entries).values(seq=5),
        entries.delete(),
        update(heads).values(size=9),
        heads.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(statement)
    assert log.count() == 1 and len(log.heads()) == 2 and log.check().ok


def test_reopening_the_store_keeps_everything(database_url, tmp_path, log, make_draft):
    log.append([make_draft()])
    reopened = Store.open(database_url, tmp_path / "blobs")
    try:
        assert reopened.unlock(log.log_id, PASSPHRASE).entries() == log.entries()
    finally:
        reopened.close()


def test_a_store_from_a_newer_version_is_refused(database_url, tmp_path, store):
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreUnavailable, match="newer version"):
        Store.open(database_url, tmp_path / "blobs")


# --- the chain, as a property -----------------------------------------------------------------

texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=20)
numbers = st.sampled_from(
    ["13812345678", "+86 138 1234 5678", "1069012345", "95188", "-1", "OTP Bank", "021-12345678"]
)
common = {
    "said": texts,
    "note": texts,
    "platform": texts,
    "tags": st.lists(st.sampled_from(["威胁", "家人", "x"])),
}
field_strategies = {
    "call": (
        {"number": numbers},
        {
            "direction": st.sampled_from(["incoming", "outgoing"]),
            "duration": st.integers(0, 10_000_000),
            "answered": st.booleans(),
        },
    ),
    "sms": ({"number": numbers}, {"direction": st.sampled_from(["incoming", "outgoing"])}),
    "message": ({"sender": texts.filter(bool)}, {"channel": texts, "number": numbers}),
    "contact": ({"contact_name": texts.filter(bool)}, {"relation": texts, "number": numbers}),
    "visit": ({}, {"location": texts, "people": texts}),
    "letter": ({}, {"sender": texts, "channel": texts}),
    "other": ({"said": texts.filter(bool)}, {"note": texts}),
    "fact": ({"fact": st.sampled_from(["cease_request", "conversation"])}, {"note": texts}),
}
zones = st.sampled_from([UTC, SHANGHAI, ZoneInfo("Europe/London"), ZoneInfo("America/New_York")])


@st.composite
def drafts(draw):
    kind = draw(st.sampled_from(model.EVENT_KINDS))
    required, optional = field_strategies[kind]
    optional = {**{k: v for k, v in common.items() if k not in required}, **optional}
    fields = draw(st.fixed_dictionaries(required, optional=optional))
    at = draw(st.datetimes(datetime(2000, 1, 1), datetime(2026, 11, 27), timezones=zones))
    return model.make_draft(kind, at, fields)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.lists(drafts(), min_size=1, max_size=8), max_size=6))
def test_chain_of_random_batches(store, batches):
    log, _ = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    made = []
    for batch in batches:
        appended = log.append(batch)
        assert [e.seq for e in appended] == list(range(len(made), len(made) + len(batch)))
        made.extend(appended)
    report = log.check()
    assert report.problems == []
    assert (report.entries, report.heads) == (len(made), len(batches) + 1)
    head = log.head()
    assert head.size == len(made) == log.count()
    assert head.root == naive_mth([e.commitment for e in made])
    drafted = [d for batch in batches for d in batch]
    stored = log.entries()
    assert stored == made
    assert [(e.kind, e.fields) for e in stored] == [(d.kind, d.fields) for d in drafted]
    assert [timeutil.to_micros(e.occurred_at) for e in stored] == [
        timeutil.to_micros(d.occurred_at) for d in drafted
    ]
