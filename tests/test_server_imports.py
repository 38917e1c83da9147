"""POST /api/v1/imports: real phone backup files through the CLI's importers (SQLite and PG)."""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path

import pytest

from tests import importfixtures as fx
from tests.serverfixtures import ApiUser, assert_error


@pytest.fixture
def alice(client) -> ApiUser:
    return ApiUser(client, "alice")


@pytest.fixture
def bob(client) -> ApiUser:
    return ApiUser(client, "bob")


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """The temporary folder the server streams uploads to (checked empty afterwards)."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def send(user: ApiUser, content: bytes, query: str = "", **headers: str):
    return user.post(
        f"/api/v1/imports{'?' if query else ''}{query}",
        data=content,
        headers={"Content-Type": "application/octet-stream", **headers},
    )


def sms_xml(tmp_path: Path, n: int = 12) -> bytes:
    return fx.write_sms_xml(tmp_path / "sms.xml", fx.collection_sms(n)).read_bytes()


def entries(user: ApiUser) -> list[dict]:
    return user.get("/api/v1/entries?limit=1000").get_json()["entries"]


def test_an_sms_backup_is_imported_once_and_a_reupload_adds_nothing(
    alice, tmp_path, scratch
) -> None:
    content = sms_xml(tmp_path)
    first = send(alice, content, "name=sms-20250301.xml")
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert (body["new"], body["already"], body["rejected"], body["originals"]) == (12, 0, 0, 1)
    assert body["complete"] is True and body["records"] == 12
    [report] = body["files"]
    assert report["format"] == "sbr-xml" and report["name"] == "sms-20250301.xml"
    assert report["sha256"] == hashlib.sha256(content).hexdigest() and report["original_kept"]
    stored = entries(alice)
    sms = [e for e in stored if e["kind"] == "sms"]
    assert len(sms) == 12 and len(stored) == 13  # and the original file, kept
    assert sms[0]["source"]["format"] == "sbr-xml"
    assert sms[0]["source"]["file_sha256"] == report["sha256"]
    assert "逾期" in sms[1]["fields"]["said"]

    again = send(alice, content, "name=sms-20250301.xml").get_json()
    assert (again["new"], again["already"], again["originals"]) == (0, 12, 0)
    assert len(entries(alice)) == 13
    assert list(scratch.iterdir()) == []  # the plaintext copy is gone


def test_a_zip_of_texts_and_calls_and_an_iphone_database(alice, tmp_path) -> None:
    texts = fx.write_sms_xml(tmp_path / "sms-1.xml", fx.collection_sms(6))
    calls = fx.write_calls_xml(tmp_path / "calls-1.xml", fx.collection_calls(5))
    archive = fx.write_zip(tmp_path / "backup.zip", {"sms-1.xml": texts, "calls-1.xml": calls})
    body = send(alice, archive.read_bytes(), "name=backup.zip").get_json()
    assert (body["new"], body["rejected"]) == (11, 0), body
    kinds = sorted(e["kind"] for e in entries(alice))
    assert kinds.count("sms") == 6 and kinds.count("call") == 5

    database = fx.write_sms_db(
        tmp_path / "sms.db",
        [
            ("+8613800130001", fx.ios_ns(fx.BASE_MS), "【某贷】您已逾期，请还款", 0, "SMS", None),
            ("+8613800130001", fx.ios_ns(fx.BASE_MS + 60_000), "我下周还", 1, "SMS", None),
        ],
    )
    ios = send(alice, database.read_bytes(), "name=sms.db&format=ios-backup").get_json()
    assert ios["new"] == 2 and ios["files"][0]["format"] == "ios-backup", ios
    said = {e["fields"].get("said") for e in entries(alice) if e["kind"] == "sms"}
    assert {"【某贷】您已逾期，请还款", "我下周还"} <= said


def test_selection_and_platform_as_the_cli_does(alice, tmp_path) -> None:
    messages = [
        fx.Sms("13800130001", fx.BASE_MS, "【某贷】您已逾期，请今日还款"),
        fx.Sms("13800130002", fx.BASE_MS + 60_000, "晚上一起吃饭吗"),
        fx.Sms("13800130003", fx.BASE_MS + 120_000, "快递到了"),
        fx.Sms("13800130001", fx.BASE_MS + 86_400_000 * 40, "later: 逾期 again"),
    ]
    content = fx.write_sms_xml(tmp_path / "sms.xml", messages).read_bytes()
    query = (
        "keywords=逾期&numbers=13800130003%2C%20某快递&platform=13800130001%3D某贷"
        "&since=2025-03-01&until=2025-03-31"
    )
    body = send(alice, content, query).get_json()
    assert (body["new"], body["skipped"]) == (2, 2), body
    assert body["skipped_by"] == {
        "neither a listed number nor a keyword": 1,
        "after --until": 1,
    }
    assert body["by_platform"] == {"某贷": 1, "某快递": 1}
    kept = {e["fields"]["said"]: e for e in entries(alice) if e["kind"] == "sms"}
    assert set(kept) == {"【某贷】您已逾期，请今日还款", "快递到了"}
    assert kept["【某贷】您已逾期，请今日还款"]["fields"]["platform"] == "某贷"
    assert kept["快递到了"]["fields"]["platform"] == "某快递"  # "NUMBER, PLATFORM" as in --numbers


def test_rejected_records_come_with_where_and_why(alice, tmp_path) -> None:
    bad = (
        '  <sms protocol="0" address="13800138000" date="null" type="1" body="no date" />\n'
        '  <sms protocol="0" address="13800138000" date="abc" type="1" body="bad date" />\n'
    )
    path = fx.write_sms_xml(tmp_path / "sms.xml", fx.collection_sms(2), extra=bad)
    body = send(alice, path.read_bytes(), "name=sms.xml").get_json()
    assert (body["new"], body["rejected"]) == (2, 2)
    assert {r["position"]: r["reason"] for r in body["rejections"]} == {
        "<sms> #3": "no date",
        "<sms> #4": "invalid literal for int() with base 10: 'abc'",
    }
    assert all(r["file"] == "sms.xml" for r in body["rejections"])


def test_a_recording_upload_is_attached_to_its_call(alice, tmp_path) -> None:
    calls = [fx.Call("13800130002", fx.BASE_MS + 3_600_000, type=1, duration=120)]
    calls_file = fx.write_calls_xml(tmp_path / "calls.xml", calls)
    assert send(alice, calls_file.read_bytes(), "name=calls.xml").get_json()["new"] == 1
    # Huawei's name for a recording of 13800130002 at 2025-03-01 18:00:00 (+08:00)
    name = "张经理@13800130002_20250301180000.amr"
    body = send(alice, fx.amr_bytes(3.0), f"name={name}").get_json()
    assert body["attached"] == 1 and body["new"] == 0, body
    kinds = [e["kind"] for e in entries(alice)]
    assert "amend" in kinds


def test_a_dry_run_counts_and_writes_nothing(alice, tmp_path) -> None:
    body = send(alice, sms_xml(tmp_path, 5), "dry_run=true").get_json()
    assert body["dry_run"] is True and body["new"] == 5
    assert entries(alice) == []


@pytest.mark.parametrize(
    ("query", "content", "headers", "status"),
    [
        ("", b"this is not a phone backup at all", {}, 422),
        ("name=sms.xml&format=ios-backup", None, {}, 422),
        ("name=x.zip", b"PK\x03\x04 broken zip", {}, 422),
        ("name=sms.db", b"SQLite format 3\x00" + b"\xff" * 200, {}, 422),
        ("", b"", {}, 422),
        ("colour=blue", None, {}, 422),
        ("format=word", None, {}, 422),
        ("since=yesterday-ish", None, {}, 422),
        ("since=", None, {}, 422),
        ("zone=Mars/Olympus", None, {}, 422),
        ("map=nonsense", None, {}, 422),
        ("dry_run=maybe", None, {}, 422),
        ("name=a&name=b", None, {}, 422),
        ("keywords=a%0Ab", None, {}, 422),
        ("", None, {"X-Content-SHA256": "0" * 64}, 422),
        ("", None, {"X-Content-SHA256": "not hex"}, 422),
        ("", None, {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ],
    ids=str,
)
def test_bad_uploads_get_the_error_shape_and_change_nothing(
    alice, tmp_path, scratch, query, content, headers, status
) -> None:
    before = alice.get("/api/v1/head").get_json()["head"]
    response = send(alice, sms_xml(tmp_path) if content is None else content, query, **headers)
    assert_error(response, status)
    assert alice.get("/api/v1/head").get_json()["head"] == before
    assert list(scratch.iterdir()) == []


def test_the_size_limit_is_kept_while_streaming(app, alice, tmp_path, scratch) -> None:
    app.config["EVIDENCE_MAX_IMPORT_BYTES"] = 1000
    content = sms_xml(tmp_path, 40)
    assert len(content) > 1000
    assert_error(send(alice, content), 413)
    # Without a Content-Length (chunked), the stream itself is cut off.
    chunked = alice.post(
        "/api/v1/imports",
        input_stream=io.BytesIO(content),
        headers={"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(chunked, 413)
    assert entries(alice) == [] and list(scratch.iterdir()) == []


def test_a_declared_sha256_is_checked(alice, tmp_path) -> None:
    content = sms_xml(tmp_path, 3)
    good = send(alice, content, "", **{"X-Content-SHA256": hashlib.sha256(content).hexdigest()})
    assert good.status_code == 200 and good.get_json()["new"] == 3


def test_imports_are_per_account(alice, bob, client, tmp_path) -> None:
    content = sms_xml(tmp_path, 4)
    assert send(alice, content).get_json()["new"] == 4
    # The same file is new to another account, and neither sees the other's entries.
    assert send(bob, content).get_json()["new"] == 4
    alice_commitments = {e["commitment"] for e in entries(alice)}
    bob_commitments = {e["commitment"] for e in entries(bob)}
    assert not alice_commitments & bob_commitments
    no_token = client.post("/api/v1/imports", data=content)
    assert_error(no_token, 401)


def test_a_backup_larger_than_an_attachment_is_accepted(app, alice, tmp_path) -> None:
    content = sms_xml(tmp_path, 1000)
    assert len(content) > app.config["MAX_CONTENT_LENGTH"]  # the limit of every other route
    assert len(content) < app.config["EVIDENCE_MAX_IMPORT_BYTES"]
    body = send(alice, content, "name=sms.xml").get_json()
    assert body["new"] == 1000, body
