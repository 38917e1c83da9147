"""Generators of phone exports in their real formats, for the importer tests and the bench.

Each writes a file the way the phone or tool does (layout from ../shared/formats.md):
SMS Backup & Restore XML (sms, mms, calls) and its ZIP, iPhone sms.db and
CallHistory.storedata (the schema subset the importer reads) and a backup folder
with hashed names, call-recording files with vendor names, and CSV exports.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

BASE_MS = int(datetime(2025, 3, 1, 9, 0, tzinfo=UTC).timestamp() * 1000)
PROLOG = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
    "<!--File Created By SMS Backup & Restore v10.05.602 on 06/08/2025 02:10:16-->\n"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24 + b"fake image"


@dataclass
class Sms:
    address: str
    date: int
    body: str
    type: int = 1
    contact: str = "(Unknown)"


@dataclass
class Call:
    number: str
    date: int
    type: int = 1
    duration: int = 30


def _a(value: str) -> str:
    # Newlines as the app writes them (&#10;), everything else escaped.
    return quoteattr(value).replace("\n", "&#10;")


def sms_element(s: Sms) -> str:
    return (
        f'  <sms protocol="0" address={_a(s.address)} date="{s.date}" type="{s.type}" '
        f'subject="null" body={_a(s.body)} toa="null" sc_toa="null" service_center="null" '
        f'read="1" status="-1" locked="0" date_sent="0" sub_id="-1" '
        f'readable_date="1 Mar 2025 17:00:00" contact_name={_a(s.contact)} />\n'
    )


def mms_element(address: str, date: int, text: str, image: bytes | None = PNG, box: int = 1) -> str:
    parts = (
        '<part seq="-1" ct="application/smil" name="null" chset="null" cd="null" fn="null" '
        'cid="&lt;smil&gt;" cl="smil.xml" ctt_s="null" ctt_t="null" text="&lt;smil /&gt;" />'
        f'<part seq="0" ct="text/plain" name="null" chset="106" cd="null" fn="null" '
        f'cid="&lt;text_0&gt;" cl="text_0.txt" ctt_s="null" ctt_t="null" text={_a(text)} />'
    )
    if image is not None:
        parts += (
            f'<part seq="0" ct="image/png" name="notice.png" chset="null" cd="null" '
            f'fn="null" cid="&lt;notice&gt;" cl="notice.png" ctt_s="null" ctt_t="null" '
            f'data="{base64.b64encode(image).decode()}" />'
        )
    kind = "137" if box == 1 else "151"
    return (
        f'  <mms date="{date}" rr="null" sub="null" ct_t="application/vnd.wap.multipart.related" '
        f'read_status="null" seen="1" msg_box="{box}" address={_a(address)} sub_cs="null" '
        f'resp_st="null" retr_st="null" d_tm="null" text_only="0" exp="null" locked="0" '
        f'm_id="null" st="null" retr_txt_cs="null" retr_txt="null" creator="null" '
        f'date_sent="0" read="1" m_size="null" rpt_a="null" ct_cls="null" pri="null" '
        f'sub_id="-1" tr_id="null" resp_txt="null" ct_l="null" m_cls="null" d_rpt="null" '
        f'v="null" _id="1" m_type="132" readable_date="x" contact_name="(Unknown)">'
        f"<parts>{parts}</parts><addrs>"
        f'<addr address={_a(address)} type="{kind}" charset="106" />'
        f'<addr address="insert-address-token" type="{151 if box == 1 else 137}" charset="106" />'
        "</addrs></mms>\n"
    )


def call_element(c: Call) -> str:
    return (
        f'  <call number={_a(c.number)} duration="{c.duration}" date="{c.date}" '
        f'type="{c.type}" presentation="1" subscription_id="1" post_dial_digits="" '
        f'subscription_component_name="com.android.phone/x" readable_date="x" '
        f'contact_name="(Unknown)" />\n'
    )


def write_sms_xml(
    path: Path, messages: Iterable[Sms], extra: str = "", count: int | None = None
) -> Path:
    messages = list(messages)
    with path.open("w", encoding="utf-8") as out:
        out.write(PROLOG + '<?xml-stylesheet type="text/xsl" href="sms.xsl"?>\n')
        out.write(
            f'<smses count="{len(messages) if count is None else count}" '
            f'backup_set="473ffea1-6559-4eb9-8c00-dfc0fe60bf68" '
            f'backup_date="{BASE_MS}" type="full">\n'
        )
        for message in messages:
            out.write(sms_element(message))
        out.write(extra)
        out.write("</smses>\n")
    return path


def write_calls_xml(path: Path, calls: Iterable[Call]) -> Path:
    calls = list(calls)
    with path.open("w", encoding="utf-8") as out:
        out.write(PROLOG + f'<calls count="{len(calls)}" backup_set="x" backup_date="{BASE_MS}">\n')
        for call in calls:
            out.write(call_element(call))
        out.write("</calls>\n")
    return path


def collection_sms(n: int, start: int = 0, numbers: int = 20) -> list[Sms]:
    out = []
    for i in range(start, start + n):
        number = f"1380013{i % numbers:04d}" if i % 3 else f"10690{i % numbers:07d}"
        body = f"【某贷】您的借款{1000 + i}元已逾期{i % 90}天，请今日还款，否则上门催收。编号{i}"
        out.append(Sms(number, BASE_MS + i * 60_000, body, type=1 if i % 5 else 2))
    return out


def collection_calls(n: int, start: int = 0, numbers: int = 20) -> list[Call]:
    return [
        Call(f"+86 138 0013 {i % numbers:04d}", BASE_MS + i * 90_000, type=1 + i % 6,
             duration=0 if i % 6 in (2, 4, 5) else 10 + i % 300)
        for i in range(start, start + n)
    ]  # fmt: skip


def write_zip(path: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, source in members.items():
            archive.write(source, name)
    return path


# --- iOS ---------------------------------------------------------------------------------------

IOS_EPOCH = 978_307_200


def ios_ns(unix_ms: int) -> int:
    return (unix_ms // 1000 - IOS_EPOCH) * 1_000_000_000 + (unix_ms % 1000) * 1_000_000


def write_sms_db(
    path: Path,
    rows: list[tuple[str, int, str | None, int, str, bytes | None]],
    attachments: dict[int, list[tuple[str | None, str, str]]] | None = None,
) -> Path:
    """rows: (handle, date in iOS units, text, is_from_me, service, attributedBody).

    attachments: row index -> [(filename as iOS stores it, mime_type, transfer_name)].
    """
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL,
            country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT,
            person_centric_id TEXT, UNIQUE (id, service));
        CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
            text TEXT, replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0,
            subject TEXT, country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0,
            type INTEGER DEFAULT 0, service TEXT, account TEXT, date INTEGER, date_read INTEGER,
            date_delivered INTEGER, is_from_me INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
            cache_roomnames TEXT);
        CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
            style INTEGER, state INTEGER, account_id TEXT, properties BLOB,
            chat_identifier TEXT, service_name TEXT, room_name TEXT, display_name TEXT);
        CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID),
            message_id INTEGER REFERENCES message (ROWID), message_date INTEGER DEFAULT 0,
            PRIMARY KEY (chat_id, message_id));
        CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
            created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT,
            uti TEXT, mime_type TEXT, transfer_state INTEGER DEFAULT 0,
            is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT,
            total_bytes INTEGER DEFAULT 0);
        CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID)
            ON DELETE CASCADE, attachment_id INTEGER REFERENCES attachment (ROWID)
            ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
        """
    )
    handles: dict[str, int] = {}
    for index, (handle, date, text, from_me, service, attributed) in enumerate(rows):
        if handle not in handles:
            cursor = conn.execute(
                "INSERT INTO handle (id, service) VALUES (?, ?)", (handle, service)
            )
            handles[handle] = int(cursor.lastrowid or 0)
            conn.execute(
                "INSERT INTO chat (guid, chat_identifier, service_name) VALUES (?, ?, ?)",
                (f"{service};-;{handle}", handle, service),
            )
        conn.execute(
            "INSERT INTO message (guid, text, handle_id, attributedBody, service, date, "
            "is_from_me) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (f"GUID-{index:06d}-{hashlib.md5(str(date).encode()).hexdigest()[:8]}", text,
             handles[handle], attributed, service, date, from_me),
        )  # fmt: skip
    for index, files in (attachments or {}).items():
        for filename, mime_type, transfer_name in files:
            cursor = conn.execute(
                "INSERT INTO attachment (guid, filename, mime_type, transfer_name) "
                "VALUES (?, ?, ?, ?)",
                (f"AT-{index}-{transfer_name}", filename, mime_type, transfer_name),
            )
            conn.execute(
                "INSERT INTO message_attachment_join (message_id, attachment_id) VALUES (?, ?)",
                (index + 1, cursor.lastrowid),
            )
    conn.commit()
    conn.close()
    return path


def attributed_body(text: str) -> bytes:
    """A minimal NSAttributedString typedstream, as iOS 16+ writes when `text` is NULL."""
    data = text.encode()
    length = bytes([len(data)]) if len(data) < 0x80 else b"\x81" + len(data).to_bytes(2, "little")
    return (
        b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00"
        b"\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+"
        + length
        + data
        + b"\x86\x84\x02iI\x01\x05\x92\x84\x84\x84\x0cNSDictionary\x00"
    )


def write_call_history(
    path: Path, rows: list[tuple[bytes | str, float, float, int, int, int]]
) -> Path:
    """rows: (ZADDRESS, ZDATE seconds since 2001, ZDURATION, ZORIGINATED, ZANSWERED, ZCALLTYPE)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
            ZANSWERED INTEGER, ZCALLTYPE INTEGER, ZDISCONNECTED_CAUSE INTEGER,
            ZFACE_TIME_DATA_USAGE INTEGER, ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER,
            ZREAD INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZADDRESS VARCHAR,
            ZDEVICE_ID VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR, ZNAME VARCHAR,
            ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR);
        CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER,
            Z_MAX INTEGER);
        """
    )
    for index, (address, date, duration, originated, answered, call_type) in enumerate(rows):
        conn.execute(
            "INSERT INTO ZCALLRECORD (Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, "
            "ZDURATION, ZADDRESS, ZSERVICE_PROVIDER, ZUNIQUE_ID, ZISO_COUNTRY_CODE) "
            "VALUES (2, 1, ?, ?, ?, ?, ?, ?, 'com.apple.Telephony', ?, 'cn')",
            (answered, call_type, originated, date, duration, address,
             f"UUID-{index:04d}-{int(date)}"),
        )  # fmt: skip
    conn.commit()
    conn.close()
    return path


SMS_DB_ID = hashlib.sha1(b"HomeDomain-Library/SMS/sms.db").hexdigest()
CALLS_ID = hashlib.sha1(b"HomeDomain-Library/CallHistoryDB/CallHistory.storedata").hexdigest()


def write_backup_folder(
    folder: Path, sms_db: Path | None, calls_db: Path | None, files: dict[str, bytes] | None = None
) -> Path:
    """files: other files of the backup by "Domain-relative/path" (stored under its SHA-1)."""
    import plistlib

    folder.mkdir(parents=True)
    (folder / "Manifest.plist").write_bytes(plistlib.dumps({"IsEncrypted": False}))
    (folder / "Info.plist").write_bytes(plistlib.dumps({"Device Name": "iPhone"}))
    for source, file_id in ((sms_db, SMS_DB_ID), (calls_db, CALLS_ID)):
        if source is not None:
            (folder / file_id[:2]).mkdir(exist_ok=True)
            (folder / file_id[:2] / file_id).write_bytes(source.read_bytes())
    for domain_path, data in (files or {}).items():
        file_id = hashlib.sha1(domain_path.encode()).hexdigest()
        (folder / file_id[:2]).mkdir(exist_ok=True)
        (folder / file_id[:2] / file_id).write_bytes(data)
    return folder


# --- recordings and CSV ------------------------------------------------------------------------

RECORDING_NAMES = [
    "通话录音@176 8831 4515(17688314515)_20250301170005.mp3",  # MIUI, no contact
    "通话录音@安逸花催收(008613800130001)_20250301171000.mp3",  # MIUI, +86 written as 0086
    "张经理@13800130002_20250302100000.amr",  # Huawei EMUI
    "Call recording 13800130003_250303_110000.m4a",  # Samsung
    "134 1096 1780_20250304120000.m4a",  # newer MIUI, no prefix
]


def write_recordings(folder: Path, names: Iterable[str] = RECORDING_NAMES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        (folder / name).write_bytes(b"ID3\x03\x00" + name.encode() + bytes([index]) * 500)
    return folder


# --- audio files, written as the phones' recorders do (headers real, sound silent) -----------


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


def amr_bytes(seconds: float, wideband: bool = False) -> bytes:
    """AMR (12.2 kbit/s frames, mode 7) or AMR-WB (23.85 kbit/s, mode 8): 50 frames a second."""
    if wideband:
        frame = bytes([8 << 3 | 4]) + b"\x00" * 60
        return b"#!AMR-WB\n" + frame * round(seconds * 50)
    return b"#!AMR\n" + (bytes([7 << 3 | 4]) + b"\x00" * 31) * round(seconds * 50)


def _box(kind: bytes, payload: bytes) -> bytes:
    import struct

    return struct.pack(">I", 8 + len(payload)) + kind + payload


def m4a_bytes(seconds: float, timescale: int = 44100, version: int = 0) -> bytes:
    """ftyp, moov/mvhd (and an mdat of silence), the layout of an .m4a from a phone."""
    import struct

    if version == 1:
        body = struct.pack(">B3xQQIQ", 1, 0, 0, timescale, round(seconds * timescale))
    else:
        body = struct.pack(">B3xIIII", 0, 0, 0, timescale, round(seconds * timescale))
    mvhd = _box(b"mvhd", body + b"\x00" * 80)
    return (
        _box(b"ftyp", b"M4A \x00\x00\x00\x00M4A mp42isom")
        + _box(b"moov", mvhd + _box(b"trak", b""))
        + _box(b"mdat", b"\x00" * 256)
    )


def mp3_bytes(seconds: float, xing: bool = False) -> bytes:
    """MPEG-1 layer III, 128 kbit/s, 44.1 kHz, after an ID3v2 tag; optionally a Xing header."""
    import struct

    frames = round(seconds * 44100 / 1152)
    header = b"\xff\xfb\x90\x44"  # 128 kbit/s, 44.1 kHz, joint stereo, no padding
    frame = header + b"\x00" * (417 - 4)
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10
    if xing:
        first = header + b"\x00" * 32 + b"Xing" + struct.pack(">II", 1, frames)
        first += b"\x00" * (417 - len(first))
        return tag + first + frame * (frames // 4)  # VBR: the count is in the Xing header
    return tag + frame * frames
