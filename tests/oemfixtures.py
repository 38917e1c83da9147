"""Generators of Chinese OEM phone exports in their real layouts, for the importer tests.

vMessage files (``.vmsg``) as OPPO/Meizu and Samsung Kies write them, and the Android
SQLite databases: Huawei backup ``calllog.db`` (``calls_tb``) and ``sms.db``
(``sms_tb``), stock ``contacts2.db`` (``calls``, with vivo's ``logtype``) and
``mmssms.db`` (``sms``, with Xiaomi's ``block_type``), and Huawei's
``HarassmentInterception.db``. Layouts from ../shared/formats.md §3.2-3.3 and the
schemas named in evidence/importers/androiddb.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.importfixtures import BASE_MS


@dataclass
class Message:
    number: str
    ms: int
    body: str
    sent: bool = False


def qp(text: str, charset: str = "utf-8", width: int = 25) -> str:
    """Every byte as ``=XX`` (as OPPO writes), a soft line break (``=`` + newline) every
    ``width`` bytes; the caller joins the pieces with its own line ending."""
    data = text.encode(charset)
    chunks = [data[i : i + width] for i in range(0, len(data), width)] or [b""]
    return "=\n".join("".join(f"={b:02X}" for b in chunk) for chunk in chunks)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y/%m/%d %H:%M:%S")


def oppo_block(m: Message) -> list[str]:
    """OPPO / Meizu: X-MESSAGE-TYPE, a Date in GMT, the body as a quoted-printable Subject."""
    return [
        "BEGIN:VMSG", "VERSION:1.1", "X-IRMS-TYPE:MSG",
        f"X-MESSAGE-TYPE:{'SUBMIT' if m.sent else 'DELIVER'}", "X-MESSAGE-STATUS:READ",
        "X-MESSAGE-SLOT:0", "X-MESSAGE-LOCKED:UNLOCKED",
        "BEGIN:VCARD", "VERSION:2.1", f"TEL:{m.number}", "END:VCARD",
        "BEGIN:VBODY", f"Date:{_utc(m.ms)} GMT",
        *f"Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:{qp(m.body)}".split("\n"),
        "END:VBODY", "END:VMSG",
    ]  # fmt: skip


def box_block(m: Message) -> list[str]:
    """The X-BOX variant: X-READ, X-SIMID, X-LOCKED and the exact DateOrigin (epoch ms)."""
    return [
        "BEGIN:VMSG", "VERSION:1.1", f"X-BOX:{'SENDBOX' if m.sent else 'INBOX'}",
        "X-READ:READ", "X-SIMID:1", "X-LOCKED:UNLOCKED", "X-TYPE:SMS",
        "BEGIN:VCARD", "VERSION:2.1", f"TEL:{m.number}", "END:VCARD",
        "BEGIN:VBODY", f"Date:{_utc(m.ms)} GMT", f"DateOrigin:{m.ms}",
        *f"Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:{qp(m.body)}".split("\n"),
        "END:VBODY", "END:VMSG",
    ]  # fmt: skip


def kies_block(m: Message) -> list[str]:
    """Samsung Kies: X-IRMC-BOX and a TEXT property."""
    return [
        "BEGIN:VMSG", "VERSION:1.1", f"X-IRMC-BOX:{'SENTBOX' if m.sent else 'INBOX'}",
        "BEGIN:VCARD", "VERSION:2.1", f"TEL:{m.number}", "END:VCARD",
        "BEGIN:VENV", "BEGIN:VBODY", f"Date:{_utc(m.ms)} GMT",
        *f"TEXT;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:{qp(m.body)}".split("\n"),
        "END:VBODY", "END:VENV", "END:VMSG",
    ]  # fmt: skip


STYLES = {"oppo": oppo_block, "box": box_block, "kies": kies_block}


def write_vmsg(
    path: Path, messages: Iterable[Message], style: str = "oppo", newline: str = "\r\n"
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        for message in messages:
            out.write(newline.join(STYLES[style](message)) + newline)
    return path


def collection_messages(n: int, start: int = 0) -> list[Message]:
    return [
        Message(f"1380013{i % 20:04d}", BASE_MS + i * 60_000,
                f"【某贷】您的借款{1000 + i}元已逾期{i % 90}天，请今日还款，否则上门催收。编号{i}",
                sent=i % 5 == 0)
        for i in range(start, start + n)
    ]  # fmt: skip


# --- Android SQLite databases ------------------------------------------------------------


def _create(path: Path, script: str, table: str, columns: list[str], rows: Iterable[tuple]) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    marks = ", ".join("?" for _ in columns)
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows))
    conn.commit()
    conn.close()
    return path


HUAWEI_CALLS = """
CREATE TABLE calls_tb (number TEXT, date INTEGER, duration INTEGER, type INTEGER, new INTEGER,
    name TEXT, numbertype INTEGER, numberlabel TEXT, countryiso TEXT, voicemail_uri TEXT,
    is_read INTEGER, geocoded_location TEXT, lookup_uri TEXT, matched_number TEXT,
    normalized_number TEXT, photo_id INTEGER, formatted_number TEXT, presentation INTEGER,
    subscription_id TEXT, features INTEGER, ring_times INTEGER, mark_type INTEGER,
    mark_content TEXT, mark_count INTEGER, is_cloud_mark INTEGER);
"""


def write_huawei_calllog(path: Path, rows: Iterable[tuple]) -> Path:
    """rows: (number, date ms, duration s, type, name, location, ring_times, mark_type,
    mark_content)."""
    columns = ["number", "date", "duration", "type", "name", "geocoded_location", "ring_times",
               "mark_type", "mark_content"]  # fmt: skip
    return _create(path, HUAWEI_CALLS, "calls_tb", columns, rows)


HUAWEI_SMS = """
CREATE TABLE sms_tb (group_id INTEGER, date INTEGER, address TEXT, read INTEGER,
    date_sent INTEGER, subject TEXT, sub_id INTEGER, reply_path_present INTEGER, type INTEGER,
    body TEXT, seen INTEGER, thread_id INTEGER, protocol INTEGER, time_body TEXT,
    addr_body TEXT, service_center TEXT, error_code INTEGER, locked INTEGER,
    network_type INTEGER, status INTEGER);
CREATE TABLE pdu_tb (group_id INTEGER, date INTEGER, msg_box INTEGER, sub TEXT);
CREATE TABLE addr_tb (msg_id INTEGER, address TEXT, type INTEGER);
CREATE TABLE part_tb (mid INTEGER, ct TEXT, text TEXT);
"""


def write_huawei_sms(path: Path, rows: Iterable[tuple]) -> Path:
    """rows: (group_id, date ms, address, type, body)."""
    return _create(path, HUAWEI_SMS, "sms_tb", ["group_id", "date", "address", "type", "body"],
                   rows)  # fmt: skip


STOCK_CALLS = """
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT, presentation INTEGER
    NOT NULL DEFAULT 1, post_dial_digits TEXT NOT NULL DEFAULT '', date INTEGER,
    duration INTEGER, data_usage INTEGER, type INTEGER, features INTEGER NOT NULL DEFAULT 0,
    subscription_component_name TEXT, subscription_id TEXT, new INTEGER, name TEXT,
    numbertype INTEGER, numberlabel TEXT, countryiso TEXT, voicemail_uri TEXT,
    is_read INTEGER, geocoded_location TEXT, lookup_uri TEXT, matched_number TEXT,
    normalized_number TEXT, photo_id INTEGER NOT NULL DEFAULT 0, formatted_number TEXT,
    logtype INTEGER);
CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, display_name TEXT);
CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT, data1 TEXT);
"""


def write_stock_calls(path: Path, rows: Iterable[tuple]) -> Path:
    """rows: (number, date ms, duration s, type, name, presentation, logtype)."""
    columns = ["number", "date", "duration", "type", "name", "presentation", "logtype"]
    return _create(path, STOCK_CALLS, "calls", columns, rows)


STOCK_SMS = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER,
    date INTEGER, date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0,
    status INTEGER DEFAULT -1, type INTEGER, reply_path_present INTEGER, subject TEXT,
    body TEXT, service_center TEXT, locked INTEGER DEFAULT 0, sub_id INTEGER DEFAULT -1,
    error_code INTEGER DEFAULT 0, creator TEXT, seen INTEGER DEFAULT 0, sim_id INTEGER
    DEFAULT 0, block_type INTEGER DEFAULT 0, fake_cell_type INTEGER DEFAULT 0,
    url_risky_type INTEGER DEFAULT 0);
CREATE TABLE pdu (_id INTEGER PRIMARY KEY, msg_box INTEGER);
CREATE TABLE threads (_id INTEGER PRIMARY KEY, recipient_ids TEXT);
"""


def write_mmssms(path: Path, rows: Iterable[tuple]) -> Path:
    """rows: (address, date ms, type, body, block_type)."""
    columns = ["address", "date", "type", "body", "block_type"]
    return _create(path, STOCK_SMS, "sms", columns, rows)


HARASSMENT = """
CREATE TABLE interception_calls(_id INTEGER PRIMARY KEY AUTOINCREMENT, phone Text, name Text,
    date long, block_reason INTEGER DEFAULT 0, block_type INTEGER DEFAULT 0,
    sub_id INTEGER DEFAULT 0, mark_count INTEGER DEFAULT 0);
CREATE TABLE interception_messages(_id INTEGER PRIMARY KEY AUTOINCREMENT, phone Text,
    name Text, body Text, date long, sub_id int DEFAULT 0, size long, exp_date long,
    pdu BLOB, type INTEGER DEFAULT 0, message_type INTEGER DEFAULT 0,
    message_id INTEGER DEFAULT -1, group_message_name Text, block_reason INTEGER DEFAULT 0);
CREATE TABLE interception_blacklist(_id INTEGER PRIMARY KEY AUTOINCREMENT, phone Text,
    name Text, option INTEGER, type INTEGER);
"""


def write_harassment(path: Path, calls: Iterable[tuple], messages: Iterable[tuple] = ()) -> Path:
    """calls: (phone, name, date ms, block_reason, mark_count); messages: (phone, body,
    date ms, block_reason, pdu)."""
    _create(path, HARASSMENT, "interception_calls",
            ["phone", "name", "date", "block_reason", "mark_count"], calls)  # fmt: skip
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO interception_messages (phone, body, date, block_reason, pdu) "
        "VALUES (?, ?, ?, ?, ?)",
        list(messages),
    )
    conn.commit()
    conn.close()
    return path
