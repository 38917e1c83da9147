"""`evidence import` as a borrower runs it: summary, filters, dry run, errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests import importfixtures as fx

PASSPHRASE = "test passphrase 一二三"


@pytest.fixture
def evidence(tmp_path: Path, database_url: str):
    env = {
        "EVIDENCE_STORE": str(tmp_path / "store"),
        "EVIDENCE_PASSPHRASE": PASSPHRASE,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "EVIDENCE_DATABASE_URL": database_url if database_url.startswith("postgresql") else "",
    }
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        assert "Traceback" not in result.output
        return result

    run("init", "--kdf-memory", "8")
    return run


def test_import_then_again_then_overlap(evidence, tmp_path: Path) -> None:
    sms = fx.write_sms_xml(tmp_path / "sms-1.xml", fx.collection_sms(30))
    calls = fx.write_calls_xml(tmp_path / "calls-1.xml", fx.collection_calls(10))
    out = evidence("import", str(sms), str(calls)).output
    assert "40 records read from 2 file(s)." in out
    assert "  40 new" in out and "  0 already in the log" in out and "  0 rejected" in out
    assert "No filter was given: everything that could be read was imported." in out
    assert "original kept" in out and "By number" in out
    again = evidence("import", str(sms), str(calls)).output
    assert "  0 new" in again and "  40 already in the log" in again
    later = fx.write_sms_xml(tmp_path / "sms-2.xml", fx.collection_sms(30, start=20))
    overlap = evidence("import", str(later)).output
    assert "  20 new" in overlap and "  10 already in the log" in overlap
    listed = evidence("list").output
    assert "逾期" in listed
    assert "OK" in evidence("check").output


def test_dry_run_writes_nothing(evidence, tmp_path: Path) -> None:
    sms = fx.write_sms_xml(tmp_path / "sms.xml", fx.collection_sms(5))
    out = evidence("import", "--dry-run", str(sms)).output
    assert out.startswith("Dry run, nothing written.") and "  5 would be added" in out
    assert "逾期" not in evidence("list").output


def test_filters_and_platform_map(evidence, tmp_path: Path) -> None:
    messages = [
        fx.Sms("13800130001", fx.BASE_MS, "【安逸花】您已逾期3天"),
        fx.Sms("13800130002", fx.BASE_MS + 1000, "妈，周末回家吃饭"),
        fx.Sms("95188", fx.BASE_MS + 2000, "账单提醒"),
    ]
    sms = fx.write_sms_xml(tmp_path / "sms.xml", messages)
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("# collectors\n95188, 借呗\n", encoding="utf-8")
    platforms = tmp_path / "platforms.txt"
    platforms.write_text("安逸花 = 安逸花\n", encoding="utf-8")
    out = evidence("import", str(sms), "--numbers", str(numbers), "--keywords", "default",
                   "--platform-map", str(platforms), "--since", "2025-03-01")  # fmt: skip
    out = out.output
    assert "  2 new" in out and "  1 skipped by the filters" in out
    assert "Filters: 1 numbers; keywords 逾期" in out
    assert "安逸花" in out and "借呗" in out
    assert "借呗" in evidence("list", "--platform", "借呗").output


def test_rejections_are_listed_with_positions_and_escaped(evidence, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("number,date,duration\n13800130001,not a date \x1b[31m,5\n", encoding="utf-8")
    out = evidence("import", str(path)).output
    assert "  1 rejected" in out and "calls.csv line 2:" in out
    assert "\x1b" not in out


def test_unreadable_and_refused_files_are_clear_errors(evidence, tmp_path: Path) -> None:
    path = tmp_path / "sms.xml"
    path.write_bytes(b"\x00\x01garbage")
    result = evidence("import", str(path), code=2)
    assert "error: cannot tell the format of sms.xml" in result.output
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE smses [<!ENTITY a "a">]><smses/>')
    result = evidence("import", "--format", "sbr-xml", str(bomb), code=2)
    assert "refused" in result.output
    evidence("import", "--map", "phone=x", str(path), code=2)


def test_recordings_folder_says_the_zone(evidence, tmp_path: Path) -> None:
    folder = fx.write_recordings(tmp_path / "call_rec")
    out = evidence("import", "--zone", "Asia/Shanghai", str(folder)).output
    assert "  5 new" in out and "read as Asia/Shanghai" in out


def test_help_says_resumable_and_stays_light() -> None:
    result = CliRunner().invoke(cli, ["import", "--help"])
    assert result.exit_code == 0 and "Resumable" in result.output
    code = (
        "import sys, runpy; sys.argv=['evidence','import','--help']\n"
        "try:\n runpy.run_module('cli.main', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('sqlalchemy', 'defusedxml', 'phonenumbers') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


def test_ctrl_c_says_how_to_resume(evidence, tmp_path: Path, monkeypatch) -> None:
    from evidence.importers import engine

    def interrupted(self, importer, unit):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine.ImportRun, "_run_unit", interrupted)
    sms = fx.write_sms_xml(tmp_path / "sms.xml", fx.collection_sms(3))
    result = evidence("import", str(sms), code=130)
    assert "run the same command again" in result.output


def test_progress_bar_after_one_second_on_a_terminal(capsys) -> None:
    from cli.importing import ProgressBar

    bar = ProgressBar(enabled=True)
    bar(10, 100, 1000)  # within the first second: nothing
    assert capsys.readouterr().err == ""
    bar.start -= 2
    bar(5000, 500, 1000)
    err = capsys.readouterr().err
    assert "5,000 records" in err and "50%" in err and "ETA" in err and "/s" in err
    bar.close()
    quiet = ProgressBar(enabled=False)
    quiet.start -= 2
    quiet(5000, 500, 1000)
    assert capsys.readouterr().err.strip() == ""
