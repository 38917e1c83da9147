"""The command line as a borrower uses it: every command, its output and its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.exit_codes import ExitCode
from cli.main import cli
from tests import clifixtures
from tests.clifixtures import PASSPHRASE, Evidence

evidence = clifixtures.evidence


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "recording.m4a"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + os.urandom(5000))
    return path


def test_init_prints_fingerprint_and_recovery_code(evidence: Evidence) -> None:
    result = evidence("init", "--kdf-memory", "8")
    assert "signing-key fingerprint:" in result.output
    fingerprint = result.output.split("fingerprint: ")[1].split("\n")[0]
    assert len(fingerprint.replace(" ", "")) == 64
    code = result.output.split("Recovery code")[1].split("\n")[1].strip()
    assert len(code.replace("-", "")) == 32
    assert evidence.rows() == (0, 1)  # the empty log already has a signed head


def test_init_twice_refuses_and_keeps_the_log(evidence: Evidence) -> None:
    evidence.init()
    evidence("log", "other", "--said", "first")
    result = evidence("init", "--kdf-memory", "8", code=ExitCode.CONFLICT)
    assert "already an evidence log" in result.output
    assert evidence.rows()[0] == 1


def test_log_call_as_in_the_readme(evidence: Evidence, recording: Path) -> None:
    evidence.init()
    result = evidence(
        "log", "call", "--number", "138 1234 5678", "--at", "2026-11-20 23:15",
        "--platform", "京东金条", "--collector", "王经理 工号8837", "--duration", "95",
        "--answered", "--said", "说明天去我单位找领导", "--attach", str(recording),
    )  # fmt: skip
    assert "Recorded entry #0: call, 2026-11-20 23:15:00 +0800, 1 attachment(s)" in result.output
    shown = json.loads(evidence("show", "0", "--json").output)
    assert shown["fields"]["number"]["e164"] == "+8613812345678"
    assert shown["fields"]["number"]["raw"] == "138 1234 5678"
    assert shown["fields"]["duration"] == 95 and shown["fields"]["answered"] is True
    assert shown["occurred_at"] == "2026-11-20T23:15:00+08:00"
    assert shown["attachments"][0]["name"] == "recording.m4a"
    assert shown["first_signed_head"]["size"] == 1


@pytest.mark.parametrize(
    ("kind", "args", "field", "value"),
    [
        ("sms", ["--number", "1069012345", "--said", "您已逾期"], "said", "您已逾期"),
        ("message", ["--sender", "wx_cs01", "--channel", "wechat"], "sender", "wx_cs01"),
        ("contact", ["--who", "妈妈", "--relation", "mother"], "contact_name", "妈妈"),
        ("visit", ["--location", "单位门口", "--people", "两个人"], "location", "单位门口"),
        ("letter", ["--sender", "某律师事务所", "--channel", "post"], "sender", "某律师事务所"),
        ("other", ["--said", "在小区贴了催收单"], "said", "在小区贴了催收单"),
    ],
)
def test_log_each_kind(
    evidence: Evidence, kind: str, args: list[str], field: str, value: str
) -> None:
    evidence.init()
    evidence("log", kind, "--at", "2026-11-21 09:00", *args)
    listed = json.loads(evidence("list", "--json").output)
    assert [e["kind"] for e in listed] == [kind]
    assert listed[0]["fields"][field] == value


def test_time_without_zone_is_in_the_log_zone_and_default_is_now(evidence: Evidence) -> None:
    evidence.init()
    evidence("log", "other", "--said", "x", "--at", "2026-11-20T23:15:00Z")
    evidence("log", "other", "--said", "y", "--at", "2026-11-20 23:15")
    evidence("log", "other", "--said", "z")
    listed = json.loads(evidence("list", "--json").output)
    assert listed[0]["occurred_at"] == "2026-11-20T23:15:00Z"
    assert listed[1]["occurred_at"] == "2026-11-20T23:15:00+08:00"
    assert listed[2]["occurred_at"].endswith("+08:00")
    occurred = datetime.fromisoformat(listed[2]["occurred_at"])
    recorded = datetime.fromisoformat(listed[2]["recorded_at"].replace("Z", "+00:00"))
    assert abs((recorded - occurred).total_seconds()) < 60


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["log", "call", "--number", "13812345678", "--at", "next tuesday"],
            "cannot read the time",
        ),
        (["log", "call", "--number", "13812345678", "--at", "2099-01-01 10:00"], "in the future"),
        (["log", "other"], "needs said"),
        (["log", "call", "--number", "138", "--duration", "-5"], "-5"),
        (["show", "7"], "no entry 7"),
        (["show", str(2**63)], "range"),
        (["retract", str(2**64), "--reason", "x"], "range"),
        (["retract", "0"], "--reason"),
        (["amend", "0", "--sender", "x"], "no field 'sender'"),
        (["attachment", "zz", "--out", "x"], "hexadecimal"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    evidence: Evidence, args: list[str], message: str
) -> None:
    evidence.init()
    evidence("log", "call", "--number", "13812345678", "--at", "2026-11-20 10:00")
    before = evidence.rows()
    result = evidence.runner.invoke(cli, args, env=evidence.env)
    assert result.exit_code in (ExitCode.USAGE, ExitCode.NOT_FOUND)
    assert message in result.output
    assert "Traceback" not in result.output
    assert evidence.rows() == before


def test_wrong_passphrase_exits_3_and_changes_nothing(evidence: Evidence) -> None:
    evidence.init()
    before = evidence.rows()
    result = evidence("log", "other", "--said", "x", env={"EVIDENCE_PASSPHRASE": "not it"}, code=3)
    assert "wrong passphrase" in result.output
    assert PASSPHRASE not in result.output and "not it" not in result.output
    assert evidence.rows() == before


def test_missing_store_says_how_to_create_one(evidence: Evidence) -> None:
    if evidence.database_url:
        pytest.skip("a database URL always names an existing store")
    result = evidence("list", code=ExitCode.STORE_UNAVAILABLE)
    assert "evidence init" in result.output


def test_list_filters_and_marks_corrections(evidence: Evidence) -> None:
    evidence.init()
    evidence("log", "call", "--number", "+86 138 1234 5678", "--platform", "京东金条",
             "--at", "2026-11-01 10:00")  # fmt: skip
    evidence("log", "sms", "--number", "95188", "--platform", "花呗", "--at", "2026-11-02 10:00",
             "--said", "还款提醒")  # fmt: skip
    evidence("log", "call", "--number", "021-12345678", "--platform", "京东金条",
             "--at", "2026-11-03 23:30")  # fmt: skip
    evidence("amend", "0", "--said", "威胁上门", "--reason", "补充内容")
    evidence("retract", "1", "--reason", "不是催收")

    def seqs(*args: str) -> list[int]:
        return [e["seq"] for e in json.loads(evidence("list", "--json", *args).output)]

    assert seqs("--platform", "京东金条") == [0, 2]
    assert seqs("--number", "13812345678") == [0]
    assert seqs("--number", "0086 138-1234-5678") == [0]
    assert seqs("--kind", "sms") == [1]
    assert seqs("--since", "2026-11-02", "--until", "2026-11-02") == [1]
    assert seqs("--kind", "amend", "--kind", "retract") == [3, 4]
    table = evidence("list").output
    assert "amended by #3" in table and "retracted by #4" in table
    original = json.loads(evidence("show", "0", "--json").output)
    assert original["fields"].get("said") is None  # the original is untouched
    assert original["amended_by"] == [3]
    shown = evidence("show", "0").output
    assert "amend #3" in shown and "威胁上门" in shown and "补充内容" in shown


def test_retract_twice_is_a_conflict(evidence: Evidence) -> None:
    evidence.init()
    evidence("log", "other", "--said", "x")
    evidence("retract", "0", "--reason", "mistake")
    result = evidence("retract", "0", "--reason", "again", code=ExitCode.CONFLICT)
    assert "already retracted by entry 1" in result.output


def test_amend_changes_a_facts_own_fields_and_keeps_it_complete(evidence: Evidence) -> None:
    evidence.init()
    evidence("log", "fact", "--fact", "agreed_time", "--window", "20:00-21:00")
    evidence("amend", "0", "--window", "21:00-22:00", "--reason", "the agreed hour moved")
    assert '"amended_by": [\n    1\n  ]' in evidence("show", "0", "--json").output
    assert "21:00-22:00" in evidence("show", "1", "--json").output
    before = evidence.rows()
    result = evidence("amend", "0", "--fact", "debtor_zone", "--reason", "x", code=ExitCode.USAGE)
    assert "needs zone" in result.output
    assert evidence.rows() == before  # refused: nothing appended


def test_collector_text_cannot_drive_the_terminal(evidence: Evidence) -> None:
    evidence.init()
    hostile = "还钱\x1b[2J\x1b]0;owned\x07\u202etxt.exe"
    evidence("log", "sms", "--number", "10690000", "--said", hostile, "--collector", "\x1b[31m王")
    for output in (evidence("list").output, evidence("show", "0").output):
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
        assert "\\u001b" in output
    assert json.loads(evidence("list", "--json").output)[0]["fields"]["said"] == hostile


def test_attachment_round_trip_and_no_overwrite(
    evidence: Evidence, recording: Path, tmp_path: Path
) -> None:
    evidence.init()
    evidence(
        "log", "contact", "--who", "老板", "--attach", str(recording), "--attach", str(recording)
    )
    sha = json.loads(evidence("show", "0", "--json").output)["attachments"][0]["sha256"]
    out = tmp_path / "out.m4a"
    evidence("attachment", sha, "--out", str(out))
    assert out.read_bytes() == recording.read_bytes()
    result = evidence("attachment", sha[:10], "--out", str(out), code=ExitCode.CONFLICT)
    assert "exists" in result.output
    streamed = evidence("attachment", sha[:10], "--out", "-")
    assert streamed.stdout_bytes == recording.read_bytes()
    evidence("attachment", "ab" * 32, "--out", str(tmp_path / "n"), code=ExitCode.NOT_FOUND)


def test_check_passes_then_names_the_altered_attachment(
    evidence: Evidence, recording: Path
) -> None:
    evidence.init()
    evidence("log", "call", "--number", "13812345678", "--attach", str(recording))
    ok = evidence("check").output
    assert "OK: the log is intact" in ok and "1 attachments" in ok
    blob = next(
        p for p in (evidence.store / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp"
    )
    data = bytearray(blob.read_bytes())
    data[100] ^= 1
    blob.write_bytes(bytes(data))
    result = evidence("check", code=ExitCode.INTEGRITY)
    assert "recording.m4a" in result.output and "altered" in result.output


def test_check_detects_a_rolled_back_store(evidence: Evidence, tmp_path: Path) -> None:
    if evidence.database_url:
        pytest.skip("copies the SQLite file")
    evidence.init()
    evidence("log", "other", "--said", "one")
    db = evidence.store / "evidence.sqlite3"
    evidence("backup", str(tmp_path / "old.zip"))
    old = tmp_path / "old.sqlite3"
    import sqlite3

    source = sqlite3.connect(db)
    source.backup(sqlite3.connect(old))
    evidence("log", "other", "--said", "two")
    old.replace(db)
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    result = evidence("check", code=ExitCode.INTEGRITY)
    assert "rolled back" in result.output


def test_passwd_and_recover(evidence: Evidence) -> None:
    code = evidence.init()
    evidence("log", "other", "--said", "evidence before")
    evidence("passwd", env={"EVIDENCE_NEW_PASSPHRASE": "second passphrase"})
    evidence("list", code=ExitCode.WRONG_SECRET)
    assert (
        "evidence before"
        in evidence("list", env={"EVIDENCE_PASSPHRASE": "second passphrase"}).output
    )
    evidence(
        "recover",
        env={"EVIDENCE_RECOVERY_CODE": "AAAA-" + code[5:], "EVIDENCE_NEW_PASSPHRASE": "x" * 9},
        code=ExitCode.WRONG_SECRET,
    )
    result = evidence(
        "recover",
        env={"EVIDENCE_RECOVERY_CODE": code.lower(), "EVIDENCE_NEW_PASSPHRASE": "third passphrase"},
    )
    new_code = result.output.split("Recovery code")[1].split("\n")[1].strip()
    assert new_code != code
    third = {"EVIDENCE_PASSPHRASE": "third passphrase"}
    assert "evidence before" in evidence("list", env=third).output
    evidence("check", env=third)
    evidence(
        "recover",
        env={"EVIDENCE_RECOVERY_CODE": code, "EVIDENCE_NEW_PASSPHRASE": "fourth passphrase"},
        code=ExitCode.WRONG_SECRET,
    )


def test_short_new_passphrase_is_refused(evidence: Evidence) -> None:
    evidence.init()
    result = evidence("passwd", env={"EVIDENCE_NEW_PASSPHRASE": "short"}, code=ExitCode.USAGE)
    assert "at least 8" in result.output
    evidence("list")


def test_backup_and_restore_through_the_cli(
    evidence: Evidence, recording: Path, tmp_path: Path
) -> None:
    evidence.init()
    evidence("log", "call", "--number", "13812345678", "--attach", str(recording))
    evidence("log", "sms", "--number", "10690000", "--said", "last warning")
    archive = tmp_path / "backup.zip"
    assert "2 entries and 1 attachment files" in evidence("backup", str(archive)).output
    evidence("backup", str(archive), code=ExitCode.CONFLICT)
    other = Evidence(tmp_path / "elsewhere", "sqlite://")
    other.env["XDG_STATE_HOME"] = evidence.env["XDG_STATE_HOME"]
    result = other("restore", str(archive))
    assert "2 entries and 1 attachments checked" in result.output
    assert "last warning" in other("list").output
    assert "OK" in other("check").output
    other("restore", str(archive), code=ExitCode.CONFLICT)


def test_restore_refuses_wrong_passphrase_and_leaves_no_log(
    evidence: Evidence, tmp_path: Path
) -> None:
    evidence.init()
    evidence("log", "other", "--said", "x")
    archive = tmp_path / "backup.zip"
    evidence("backup", str(archive))
    other = Evidence(tmp_path / "elsewhere", "sqlite://")
    other("restore", str(archive), env={"EVIDENCE_PASSPHRASE": "wrong one"}, code=3)
    other("list", code=ExitCode.STORE_UNAVAILABLE)


def test_every_command_has_help() -> None:
    runner = CliRunner()
    names = ["init", "list", "show", "attachment", "amend", "retract", "check", "passwd",
             "recover", "backup", "restore", "log", "analyze", "complaint", "bundle", "verify",
             "import"]  # fmt: skip
    names.append("serve")  # the web server (tests/test_server_serve.py)
    names.append("timestamp")  # RFC 3161 timestamps (tests/test_timestamp_cli.py)
    assert set(names) == set(cli.commands)
    for name in names:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        assert len(cli.commands[name].help or "") > 20, name
    for kind in ["call", "sms", "message", "contact", "visit", "letter", "other"]:
        assert runner.invoke(cli, ["log", kind, "--help"]).exit_code == 0


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, runpy; sys.argv=['evidence','--help'];\n"
        "try:\n runpy.run_module('cli.main', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "print('HEAVY', sorted(m for m in ('sqlalchemy','reportlab','flask','alembic',"
        "'phonenumbers','cryptography') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


def test_log_does_not_import_reportlab_or_flask(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom cli.main import cli\n"
        "try:\n cli.main(['init','--kdf-memory','8'])\nexcept SystemExit: pass\n"
        "try:\n cli.main(['log','other','--said','x'])\nexcept SystemExit: pass\n"
        "print('HEAVY', sorted(m for m in ('reportlab','flask') if m in sys.modules))"
    )
    env = {**os.environ, "EVIDENCE_STORE": str(tmp_path / "s"), "EVIDENCE_PASSPHRASE": PASSPHRASE,
           "XDG_STATE_HOME": str(tmp_path / "state")}  # fmt: skip
    env.pop("EVIDENCE_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "Recorded entry #0" in out.stdout, out.stderr
    assert "HEAVY []" in out.stdout
