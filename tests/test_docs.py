"""The documents tell the truth: the README's commands run, every command is documented."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "README.zh-CN.md"]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_ci_runs_exactly_the_readme_test_command(readme: Path) -> None:
    commands = [b.strip() for b in _blocks(readme.read_text(encoding="utf-8"), "sh")]
    assert len(commands) == 2, "the quick start is two commands"
    install_and_run, test_command = commands
    assert "evidence serve" in install_and_run and "pip install" in install_and_run
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_every_command_is_documented(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"`{name}" in text, name
    for kind in cli.commands["log"].commands:  # type: ignore[attr-defined]
        assert f"evidence log {kind}" in text, kind


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_the_readme_tour_runs(readme: Path, tmp_path: Path, monkeypatch) -> None:
    """Every `$ evidence …` line of the tour, in order, on a fresh store."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recording.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A recording")
    (tmp_path / "screenshot.png").write_bytes(b"\x89PNG\r\n\x1a\n screenshot")
    env = {
        "EVIDENCE_STORE": str(tmp_path / "store"),
        "EVIDENCE_PASSPHRASE": "a passphrase for the tour",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "EVIDENCE_DATABASE_URL": "",
    }
    lines = [
        line[2:]
        for block in _blocks(readme.read_text(encoding="utf-8"), "console")
        for line in block.splitlines()
        if line.startswith("$ evidence ")
    ]
    assert len(lines) >= 10
    runner = CliRunner()
    for line in lines:
        args = shlex.split(line)[1:]
        if args[0] == "init":
            args += ["--kdf-memory", "8"]
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 0, (line, result.output)
    assert (tmp_path / "evidence-backup.zip").exists()


def test_docs_exist_and_cover_every_dependency() -> None:
    for name in ("FORMAT.md", "SECURITY.md", "DEPENDENCIES.md", "performance.md"):
        assert (ROOT / "docs" / name).stat().st_size > 1000, name
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    text = (ROOT / "docs" / "DEPENDENCIES.md").read_text(encoding="utf-8").lower()
    for requirement in wanted:
        name = re.split(r"[<>=\[]", requirement)[0].strip().lower()
        assert name in text, name


def test_security_doc_names_every_command() -> None:
    text = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    for name in ("init", "passwd", "recover", "backup", "restore", "check"):
        assert name in text
