"""Bring a database to the current schema through Alembic migrations.

Alembic is imported only when a migration is due, so everyday commands that
open an up-to-date store do not pay for it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from evidence.errors import StoreUnavailable

HEAD_REVISION = "0005"
MIGRATIONS = Path(__file__).parent / "migrations"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if revision is not None and revision not in known:
        raise StoreUnavailable(
            f"the store was written by a newer version of evidence (schema {revision})"
        )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
