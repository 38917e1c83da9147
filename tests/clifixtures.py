"""Running `evidence …` in-process against an isolated store: shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from cli.main import cli
from evidence.store.schema import entries, heads

PASSPHRASE = "test passphrase 一二三"


class Evidence:
    """Runs `evidence …` in-process with an isolated store, state folder and passphrase."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.store = tmp_path / "store"
        self.database_url = database_url if database_url.startswith("postgresql") else None
        self.env = {
            "EVIDENCE_STORE": str(self.store),
            "EVIDENCE_PASSPHRASE": PASSPHRASE,
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "EVIDENCE_DATABASE_URL": self.database_url or "",
        }
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None, code: int = 0):
        result = self.runner.invoke(cli, list(args), env={**self.env, **(env or {})})
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        assert "Traceback" not in result.output
        return result

    def init(self) -> str:
        result = self("init", "--kdf-memory", "8")
        return result.output.split("Recovery code")[1].split("\n")[1].strip()

    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.store / 'evidence.sqlite3'}"

    def rows(self) -> tuple[int, int]:
        engine = create_engine(self.url())
        with engine.connect() as conn:
            counts = (
                conn.execute(select(func.count()).select_from(entries)).scalar_one(),
                conn.execute(select(func.count()).select_from(heads)).scalar_one(),
            )
        engine.dispose()
        return counts


@pytest.fixture
def evidence(tmp_path: Path, database_url: str) -> Evidence:
    return Evidence(tmp_path, database_url)
