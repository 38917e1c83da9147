"""The dedup digests' index (migration 0004): on the digest alone, and lookups per log."""

from __future__ import annotations

from sqlalchemy import insert, inspect, select

from evidence.ledger import Store
from evidence.store import migrate
from evidence.store.schema import entries
from tests.conftest import PASSPHRASE, cheap_kdf
from tests.test_dedup import keyed


def _dedup_indexes(store: Store) -> dict[str, tuple[list[str], bool]]:
    with store.engine.connect() as conn:
        found = inspect(conn).get_indexes("entries")
    return {
        index["name"]: (list(index["column_names"]), bool(index["unique"]))
        for index in found
        if "dedup" in index["column_names"]
    }


def _alembic(store: Store, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)


def test_the_index_is_on_the_digest_alone(store) -> None:
    assert _dedup_indexes(store) == {"ux_entries_dedup": (["dedup"], True)}


def test_a_store_of_schema_0003_is_upgraded_and_keeps_its_keys(
    database_url, tmp_path, store, log, make_draft
) -> None:
    log.append([keyed(make_draft(), "a"), keyed(make_draft(), "b"), make_draft()])
    _alembic(store, "downgrade", "0003")
    assert _dedup_indexes(store) == {"ux_entries_log_dedup": (["log_id", "dedup"], True)}
    store.close()
    reopened = Store.open(database_url, tmp_path / "blobs")
    try:
        assert migrate.current_revision(reopened.engine) == migrate.HEAD_REVISION
        assert _dedup_indexes(reopened) == {"ux_entries_dedup": (["dedup"], True)}
        again = reopened.unlock(log.log_id, PASSPHRASE)
        holders: dict[str, int] = {}
        made = again.append_new([keyed(make_draft(), "b"), keyed(make_draft(), "c")], holders)
        assert list(made) == [3] and holders == {"b": 1, "c": 3}
        assert again.check().ok
    finally:
        reopened.close()


def test_a_digest_held_by_another_log_is_not_this_logs(store, log, make_draft) -> None:
    # Digests are keyed per log and never meet in practice; if one did (here, a row
    # written by hand), a lookup still answers for its own log only.
    other, _ = store.create_log("another passphrase", kdf=cheap_kdf())
    with store.engine.begin() as conn:
        conn.execute(
            insert(entries).values(
                log_id=other.log_id, seq=0, occurred_us=0, recorded_us=0,
                commitment=bytes(32), sealed=b"x", dedup=log.dedup_digest("mine"),
            )
        )  # fmt: skip
    assert log.existing_dedup_keys(["mine"]) == set()
    with store.engine.connect() as conn:
        owners = conn.execute(select(entries.c.log_id).where(entries.c.dedup.is_not(None))).all()
    assert [row.log_id for row in owners] == [other.log_id]
    assert log.seqs_for_dedup_keys(["mine", "x"]) == {}
    log.append([keyed(make_draft(), "x")])
    assert log.seqs_for_dedup_keys(["mine", "x"]) == {"x": 0}
