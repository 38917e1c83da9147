"""Where the store is, how secrets are obtained, and opening the log once per command.

Nothing here imports SQLAlchemy at module load: the core is imported inside
the functions that need it, so `evidence --help` starts instantly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from evidence.hashing import Head
    from evidence.ledger import Log, Store

F = TypeVar("F", bound=Callable[..., Any])

DB_FILE = "evidence.sqlite3"
MIN_PASSPHRASE = 8


def default_store_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("evidence", appauthor=False))


def state_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("evidence", appauthor=False))


@dataclass
class Location:
    """A store on disk (database file + blob folder), or a database URL + blob folder."""

    path: Path
    database_url: str | None = None
    log_id: str | None = None

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.path / DB_FILE}"

    def exists(self) -> bool:
        return bool(self.database_url) or (self.path / DB_FILE).exists()

    def describe(self) -> str:
        return str(self.path) if not self.database_url else f"{self.path} (database from URL)"


def store_options(function: F) -> F:
    """--store, --database-url and --log, accepted by every command that opens a log."""
    function = click.option(
        "--log",
        "log_id",
        envvar="EVIDENCE_LOG",
        help="Which log, when the database holds several (a log id).",
    )(function)
    function = click.option(
        "--database-url",
        envvar="EVIDENCE_DATABASE_URL",
        help="Keep the database elsewhere, e.g. postgresql+psycopg://user@host/db "
        "(attachments stay under --store). Env: EVIDENCE_DATABASE_URL.",
    )(function)
    function = click.option(
        "--store",
        "store_path",
        envvar="EVIDENCE_STORE",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of the encrypted log (default: your data folder). Env: EVIDENCE_STORE.",
    )(function)
    return function


def location(store_path: Path | None, database_url: str | None, log_id: str | None) -> Location:
    return Location(store_path or default_store_path(), database_url or None, log_id)


def open_store(where: Location, create: bool = False) -> Store:
    from evidence.errors import StoreUnavailable
    from evidence.ledger import Store

    if not create and not where.exists():
        raise StoreUnavailable(
            f"no evidence log at {where.path}: create one with `evidence init`"
            " (or point --store / EVIDENCE_STORE at it)"
        )
    if not where.database_url:
        where.path.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store.open(where.url, where.path / "blobs")
    current = click.get_current_context(silent=True)
    if current is not None:
        current.call_on_close(store.close)
    return store


def pick_log(store: Store, where: Location) -> str:
    from evidence.errors import InvalidInput, NotFound, StoreUnavailable

    ids = store.log_ids()
    if where.log_id:
        if where.log_id not in ids:
            raise NotFound(f"no log {where.log_id} in this store")
        return where.log_id
    if not ids:
        raise StoreUnavailable(f"the store at {where.describe()} holds no log: run `evidence init`")
    if len(ids) > 1:
        raise InvalidInput(f"this database holds {len(ids)} logs: choose one with --log")
    return ids[0]


def passphrase(
    prompt: str = "Passphrase", confirm: bool = False, env: str = "EVIDENCE_PASSPHRASE"
) -> str:
    """From the environment (scripts, tests) or a prompt without echo."""
    value = os.environ.get(env)
    if value is None:
        value = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    if confirm and len(value) < MIN_PASSPHRASE:
        from evidence.errors import InvalidInput

        raise InvalidInput(f"choose a passphrase of at least {MIN_PASSPHRASE} characters")
    return value


def unlock(where: Location) -> Log:
    store = open_store(where)
    return store.unlock(pick_log(store, where), passphrase())


# --- witness: the newest head this machine has seen, kept outside the store ---------------


def _witness_file(log_id: str) -> Path:
    return state_path() / "witness" / f"{log_id}.json"


def remember_head(head: Head) -> None:
    """Record the newest head, so a later rollback of the store is noticed by `check`."""
    path = _witness_file(head.log_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(head.to_dict()), encoding="utf-8")
    os.replace(temp, path)


def remembered_head(log_id: str) -> Head | None:
    from evidence.hashing import Head

    try:
        data = json.loads(_witness_file(log_id).read_text(encoding="utf-8"))
        return Head(
            log_id,
            int(data["size"]),
            bytes.fromhex(data["root"]),
            str(data["signed_at"]),
            bytes.fromhex(data["signature"]),
        )
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
